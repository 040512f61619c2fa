-- Backstage catalog database schema (PostgreSQL).
-- Generated from @backstage/plugin-catalog-backend 4.0.0: its 45 knex migrations
-- (knex 3.3.0, pg 8.23.1) run with knex migrate.latest on an empty database,
-- then dumped with pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1):
--   pg_dump --no-owner --no-privileges --inserts --exclude-table-data=<every table but knex_migrations*>
-- Regenerate with: scripts/catalog-schema/generate.sh
-- Post-processed: psql meta-commands (\restrict/\unrestrict) removed, the session
-- settings the dump changes are RESET at the end (so batch_execute on one connection
-- keeps working), knex_migrations.migration_time normalised to '2000-01-01 00:00:00+00'.
-- Do not edit by hand.
--
-- PostgreSQL database dump
--


-- Dumped from database version 15.20 (Debian 15.20-0+deb12u1)
-- Dumped by pg_dump version 15.20 (Debian 15.20-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: final_entities; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.final_entities (
    entity_id character varying(255) NOT NULL,
    hash character varying(255) NOT NULL,
    final_entity text,
    last_updated_at timestamp with time zone,
    entity_ref character varying(255) NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_analyze_scale_factor='0.01');


--
-- Name: TABLE final_entities; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.final_entities IS 'Final entities after processing and stitching';


--
-- Name: COLUMN final_entities.entity_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.final_entities.entity_id IS 'Entity ID -> refresh_state table';


--
-- Name: COLUMN final_entities.hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.final_entities.hash IS 'Stable hash of the entity data';


--
-- Name: COLUMN final_entities.final_entity; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.final_entities.final_entity IS 'The JSON encoded final entity';


--
-- Name: COLUMN final_entities.last_updated_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.final_entities.last_updated_at IS 'The time when final_entity changed';


--
-- Name: COLUMN final_entities.entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.final_entities.entity_ref IS 'The entity reference of the entity';


--
-- Name: knex_migrations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.knex_migrations (
    id integer NOT NULL,
    name character varying(255),
    batch integer,
    migration_time timestamp with time zone
);


--
-- Name: knex_migrations_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.knex_migrations_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: knex_migrations_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.knex_migrations_id_seq OWNED BY public.knex_migrations.id;


--
-- Name: knex_migrations_lock; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.knex_migrations_lock (
    index integer NOT NULL,
    is_locked integer
);


--
-- Name: knex_migrations_lock_index_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.knex_migrations_lock_index_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: knex_migrations_lock_index_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.knex_migrations_lock_index_seq OWNED BY public.knex_migrations_lock.index;


--
-- Name: location_update_log; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.location_update_log (
    id bigint NOT NULL,
    status text NOT NULL,
    created_at timestamp with time zone DEFAULT CURRENT_TIMESTAMP NOT NULL,
    message text,
    location_id uuid,
    entity_name text,
    CONSTRAINT location_update_log_status_check CHECK ((status = ANY (ARRAY['success'::text, 'fail'::text])))
);


--
-- Name: location_update_log_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.location_update_log_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: location_update_log_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.location_update_log_id_seq OWNED BY public.location_update_log.id;


--
-- Name: location_update_log_latest; Type: VIEW; Schema: public; Owner: -
--

CREATE VIEW public.location_update_log_latest AS
SELECT
    NULL::bigint AS id,
    NULL::text AS status,
    NULL::timestamp with time zone AS created_at,
    NULL::text AS message,
    NULL::uuid AS location_id,
    NULL::text AS entity_name;


--
-- Name: locations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.locations (
    id uuid NOT NULL,
    type character varying(255) NOT NULL,
    target text NOT NULL,
    location_entity_ref character varying(255) NOT NULL
);


--
-- Name: TABLE locations; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.locations IS 'Registered locations that shall be continuously scanned for catalog item updates';


--
-- Name: COLUMN locations.id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.locations.id IS 'Auto-generated ID of the location';


--
-- Name: COLUMN locations.type; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.locations.type IS 'The type of location';


--
-- Name: COLUMN locations.target; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.locations.target IS 'The actual target of the location';


--
-- Name: COLUMN locations.location_entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.locations.location_entity_ref IS 'The entity ref of the corresponding Location kind entity, e.g. location:default/generated-<sha1hex>';


--
-- Name: refresh_keys; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refresh_keys (
    entity_id character varying(255) NOT NULL,
    key character varying(255) NOT NULL
);


--
-- Name: TABLE refresh_keys; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.refresh_keys IS 'This table contains relations between entities and keys to trigger refreshes with';


--
-- Name: COLUMN refresh_keys.entity_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_keys.entity_id IS 'A reference to the entity that the refresh key is tied to';


--
-- Name: COLUMN refresh_keys.key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_keys.key IS 'A reference to a key which should be used to trigger a refresh on this entity';


--
-- Name: refresh_state; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refresh_state (
    entity_id character varying(255) NOT NULL,
    entity_ref character varying(255) NOT NULL,
    unprocessed_entity text NOT NULL,
    processed_entity text,
    cache text,
    errors text NOT NULL,
    next_update_at timestamp with time zone NOT NULL,
    last_discovery_at timestamp with time zone NOT NULL,
    location_key text,
    result_hash text,
    unprocessed_hash text
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_analyze_scale_factor='0.01');


--
-- Name: TABLE refresh_state; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.refresh_state IS 'Location refresh states';


--
-- Name: COLUMN refresh_state.entity_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.entity_id IS 'Primary ID, also used as the uid of the entity';


--
-- Name: COLUMN refresh_state.entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.entity_ref IS 'A reference to the entity for this refresh state';


--
-- Name: COLUMN refresh_state.unprocessed_entity; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.unprocessed_entity IS 'The unprocessed entity (in original form) as JSON';


--
-- Name: COLUMN refresh_state.processed_entity; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.processed_entity IS 'The processed entity (not yet stitched) as JSON';


--
-- Name: COLUMN refresh_state.cache; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.cache IS 'Cache information tied to refreshes of this entity';


--
-- Name: COLUMN refresh_state.errors; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.errors IS 'JSON array containing all errors related to entity';


--
-- Name: COLUMN refresh_state.next_update_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.next_update_at IS 'Timestamp of when entity should be updated';


--
-- Name: COLUMN refresh_state.last_discovery_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.last_discovery_at IS 'The last timestamp that this entity was discovered';


--
-- Name: COLUMN refresh_state.location_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.location_key IS 'Opaque conflict resolution key';


--
-- Name: COLUMN refresh_state.result_hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.result_hash IS 'A hash of the processed contents, used to avoid duplicate work';


--
-- Name: COLUMN refresh_state.unprocessed_hash; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state.unprocessed_hash IS 'A hash of the unprocessed contents';


--
-- Name: refresh_state_references; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.refresh_state_references (
    id bigint NOT NULL,
    source_key text,
    source_entity_ref text,
    target_entity_ref text NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_analyze_scale_factor='0.01');


--
-- Name: TABLE refresh_state_references; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.refresh_state_references IS 'Edges between refresh state rows';


--
-- Name: COLUMN refresh_state_references.id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state_references.id IS 'Primary key to distinguish unique lines from each other';


--
-- Name: COLUMN refresh_state_references.source_key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state_references.source_key IS 'Opaque identifier for non-entity sources';


--
-- Name: COLUMN refresh_state_references.source_entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state_references.source_entity_ref IS 'EntityRef of entity sources';


--
-- Name: COLUMN refresh_state_references.target_entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.refresh_state_references.target_entity_ref IS 'The EntityRef of the target entity.';


--
-- Name: refresh_state_references_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.refresh_state_references_id_seq
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: refresh_state_references_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.refresh_state_references_id_seq OWNED BY public.refresh_state_references.id;


--
-- Name: relations; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.relations (
    originating_entity_id character varying(255) NOT NULL,
    source_entity_ref character varying(255) NOT NULL,
    type character varying(255) NOT NULL,
    target_entity_ref character varying(255) NOT NULL
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_analyze_scale_factor='0.01');


--
-- Name: TABLE relations; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.relations IS 'All relations between entities';


--
-- Name: COLUMN relations.originating_entity_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.relations.originating_entity_id IS 'The entity that provided the relation';


--
-- Name: COLUMN relations.source_entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.relations.source_entity_ref IS 'Entity reference of the source entity of the relation';


--
-- Name: COLUMN relations.type; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.relations.type IS 'The type of the relation between the entities';


--
-- Name: COLUMN relations.target_entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.relations.target_entity_ref IS 'Entity reference of the target entity of the relation';


--
-- Name: search; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.search (
    entity_id character varying(255),
    key character varying(255) NOT NULL,
    value character varying(255),
    original_value character varying(255)
)
WITH (autovacuum_vacuum_scale_factor='0.01', autovacuum_analyze_scale_factor='0.01');


--
-- Name: TABLE search; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON TABLE public.search IS 'Flattened key-values from the entities, for filtering';


--
-- Name: COLUMN search.entity_id; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.search.entity_id IS 'The entity that matches this key/value';


--
-- Name: COLUMN search.key; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.search.key IS 'A key that occurs in the entity';


--
-- Name: COLUMN search.value; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.search.value IS 'The corresponding value to match on';


--
-- Name: COLUMN search.original_value; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.search.original_value IS 'Holds the corresponding original case sensitive value';


--
-- Name: stitch_queue; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.stitch_queue (
    entity_ref character varying(255) NOT NULL,
    stitch_ticket character varying(255) NOT NULL,
    next_stitch_at timestamp with time zone NOT NULL
);


--
-- Name: COLUMN stitch_queue.entity_ref; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.stitch_queue.entity_ref IS 'The entity ref that needs stitching';


--
-- Name: COLUMN stitch_queue.stitch_ticket; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.stitch_queue.stitch_ticket IS 'Changes with every new stitch request';


--
-- Name: COLUMN stitch_queue.next_stitch_at; Type: COMMENT; Schema: public; Owner: -
--

COMMENT ON COLUMN public.stitch_queue.next_stitch_at IS 'Timestamp of when entity should be stitched';


--
-- Name: knex_migrations id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.knex_migrations ALTER COLUMN id SET DEFAULT nextval('public.knex_migrations_id_seq'::regclass);


--
-- Name: knex_migrations_lock index; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.knex_migrations_lock ALTER COLUMN index SET DEFAULT nextval('public.knex_migrations_lock_index_seq'::regclass);


--
-- Name: location_update_log id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.location_update_log ALTER COLUMN id SET DEFAULT nextval('public.location_update_log_id_seq'::regclass);


--
-- Name: refresh_state_references id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state_references ALTER COLUMN id SET DEFAULT nextval('public.refresh_state_references_id_seq'::regclass);


--
-- Data for Name: knex_migrations; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.knex_migrations VALUES (1, '20200511113813_init.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (2, '20200520140700_location_update_log_table.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (3, '20200527114117_location_update_log_latest_view.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (4, '20200702153613_entities.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (5, '20200721115244_location_update_log_latest_deduplicate.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (6, '20200805163904_location_update_log_duplication_fix.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (7, '20200807120600_entitySearch.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (8, '20200809202832_add_bootstrap_location.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (9, '20200923104503_case_insensitivity.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (10, '20201005122705_add_entity_full_name.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (11, '20201006130744_entity_data_column.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (12, '20201006203131_entity_remove_redundant_columns.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (13, '20201007201501_index_entity_search.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (14, '20201019130742_add_relations_table.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (15, '20201123205611_relations_table_uniq.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (16, '20201210185851_fk_index.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (17, '20201230103504_update_log_varchar.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (18, '20210209121210_locations_fk_index.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (19, '20210302150147_refresh_state.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (20, '20210622104022_refresh_state_location_key.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (21, '20210813143113_add_refresh_state_hash.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (22, '20210925102509_add_refresh_state_input_hash.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (23, '20220116144621_remove_legacy.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (24, '20220222164811_reprocess_for_relation_refs.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (25, '20220616202842_refresh_keys.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (26, '20221109192547_search_add_original_value_column.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (27, '20221201085245_add_last_updated_at_in_final_entities.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (28, '20230125085746_trigger_reprocessing.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (29, '20230525141717_stitch_queue.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (30, '20240130092632_search_index.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (31, '20241003170511_alter_target_in_locations.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (32, '20241024104700_add_entity_ref_to_final_entities.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (33, '20241111000000_drop_redundant_indices.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (34, '20250401200503_update_refresh_state_columns.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (35, '20250514000000_refresh_state_references_big_increments.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (36, '20260214000000_search_fk_final_entities.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (37, '20260215000000_move_stitch_queue.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (38, '20260403000000_add_location_entity_ref.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (39, '20260510000000_search_indices_and_dedup.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (40, '20260516000000_relations_target_index.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (41, '20260519000000_search_extended_statistics.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (42, '20260608000000_search_autovacuum_and_ndistinct.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (43, '20260609000000_drop_search_entity_id_idx.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (44, '20260904000000_fix_search_entity_id_ndistinct.js', 1, '2000-01-01 00:00:00+00');
INSERT INTO public.knex_migrations VALUES (45, '20260912000000_refresh_state_maintenance.js', 1, '2000-01-01 00:00:00+00');


--
-- Data for Name: knex_migrations_lock; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.knex_migrations_lock VALUES (1, 0);


--
-- Name: knex_migrations_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.knex_migrations_id_seq', 45, true);


--
-- Name: knex_migrations_lock_index_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.knex_migrations_lock_index_seq', 1, true);


--
-- Name: location_update_log_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.location_update_log_id_seq', 1, false);


--
-- Name: refresh_state_references_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.refresh_state_references_id_seq', 1, false);


--
-- Name: final_entities final_entities_entity_ref_uniq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.final_entities
    ADD CONSTRAINT final_entities_entity_ref_uniq UNIQUE (entity_ref);


--
-- Name: final_entities final_entities_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.final_entities
    ADD CONSTRAINT final_entities_pkey PRIMARY KEY (entity_id);


--
-- Name: knex_migrations_lock knex_migrations_lock_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.knex_migrations_lock
    ADD CONSTRAINT knex_migrations_lock_pkey PRIMARY KEY (index);


--
-- Name: knex_migrations knex_migrations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.knex_migrations
    ADD CONSTRAINT knex_migrations_pkey PRIMARY KEY (id);


--
-- Name: location_update_log location_update_log_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.location_update_log
    ADD CONSTRAINT location_update_log_pkey PRIMARY KEY (id);


--
-- Name: locations locations_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.locations
    ADD CONSTRAINT locations_pkey PRIMARY KEY (id);


--
-- Name: refresh_state refresh_state_entity_ref_uniq; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state
    ADD CONSTRAINT refresh_state_entity_ref_uniq UNIQUE (entity_ref);


--
-- Name: refresh_state refresh_state_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state
    ADD CONSTRAINT refresh_state_pkey PRIMARY KEY (entity_id);


--
-- Name: refresh_state_references refresh_state_references_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state_references
    ADD CONSTRAINT refresh_state_references_pkey PRIMARY KEY (id);


--
-- Name: stitch_queue stitch_queue_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.stitch_queue
    ADD CONSTRAINT stitch_queue_pkey PRIMARY KEY (entity_ref);


--
-- Name: refresh_keys_entity_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_keys_entity_id_idx ON public.refresh_keys USING btree (entity_id);


--
-- Name: refresh_keys_key_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_keys_key_idx ON public.refresh_keys USING btree (key);


--
-- Name: refresh_state_next_update_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_state_next_update_at_idx ON public.refresh_state USING btree (next_update_at);


--
-- Name: refresh_state_references_source_entity_ref_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_state_references_source_entity_ref_idx ON public.refresh_state_references USING btree (source_entity_ref);


--
-- Name: refresh_state_references_source_key_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_state_references_source_key_idx ON public.refresh_state_references USING btree (source_key);


--
-- Name: refresh_state_references_target_entity_ref_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX refresh_state_references_target_entity_ref_idx ON public.refresh_state_references USING btree (target_entity_ref);


--
-- Name: relations_source_entity_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX relations_source_entity_id_idx ON public.relations USING btree (originating_entity_id);


--
-- Name: relations_source_entity_ref_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX relations_source_entity_ref_idx ON public.relations USING btree (source_entity_ref);


--
-- Name: relations_target_entity_ref_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX relations_target_entity_ref_idx ON public.relations USING btree (target_entity_ref);


--
-- Name: search_entity_key_value_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE UNIQUE INDEX search_entity_key_value_idx ON public.search USING btree (entity_id, key, value);


--
-- Name: search_facets_covering_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_facets_covering_idx ON public.search USING btree (key, original_value, entity_id) WHERE (original_value IS NOT NULL);


--
-- Name: search_key_value_entity_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX search_key_value_entity_idx ON public.search USING btree (key, value, entity_id);


--
-- Name: stitch_queue_next_stitch_at_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX stitch_queue_next_stitch_at_idx ON public.stitch_queue USING btree (next_stitch_at);


--
-- Name: update_log_location_id_idx; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX update_log_location_id_idx ON public.location_update_log USING btree (location_id);


--
-- Name: search_key_value_stats; Type: STATISTICS; Schema: public; Owner: -
--

CREATE STATISTICS public.search_key_value_stats ON key, value FROM public.search;


--
-- Name: location_update_log_latest _RETURN; Type: RULE; Schema: public; Owner: -
--

CREATE OR REPLACE VIEW public.location_update_log_latest AS
 SELECT t1.id,
    t1.status,
    t1.created_at,
    t1.message,
    t1.location_id,
    t1.entity_name
   FROM (public.location_update_log t1
     JOIN ( SELECT location_update_log.location_id,
            max(location_update_log.id) AS maxid
           FROM public.location_update_log
          GROUP BY location_update_log.location_id) t2 ON (((t1.location_id = t2.location_id) AND (t1.id = t2.maxid))))
  GROUP BY t1.location_id, t1.id
  ORDER BY t1.created_at DESC;


--
-- Name: final_entities final_entities_entity_id_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.final_entities
    ADD CONSTRAINT final_entities_entity_id_foreign FOREIGN KEY (entity_id) REFERENCES public.refresh_state(entity_id) ON DELETE CASCADE;


--
-- Name: location_update_log location_update_log_location_id_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.location_update_log
    ADD CONSTRAINT location_update_log_location_id_foreign FOREIGN KEY (location_id) REFERENCES public.locations(id) ON UPDATE CASCADE ON DELETE CASCADE;


--
-- Name: refresh_keys refresh_keys_entity_id_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_keys
    ADD CONSTRAINT refresh_keys_entity_id_foreign FOREIGN KEY (entity_id) REFERENCES public.refresh_state(entity_id) ON DELETE CASCADE;


--
-- Name: refresh_state_references refresh_state_references_source_entity_ref_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state_references
    ADD CONSTRAINT refresh_state_references_source_entity_ref_foreign FOREIGN KEY (source_entity_ref) REFERENCES public.refresh_state(entity_ref) ON DELETE CASCADE;


--
-- Name: refresh_state_references refresh_state_references_target_entity_ref_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.refresh_state_references
    ADD CONSTRAINT refresh_state_references_target_entity_ref_foreign FOREIGN KEY (target_entity_ref) REFERENCES public.refresh_state(entity_ref) ON DELETE CASCADE;


--
-- Name: relations relations_originating_entity_id_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.relations
    ADD CONSTRAINT relations_originating_entity_id_foreign FOREIGN KEY (originating_entity_id) REFERENCES public.refresh_state(entity_id) ON DELETE CASCADE;


--
-- Name: search search_entity_id_foreign; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.search
    ADD CONSTRAINT search_entity_id_foreign FOREIGN KEY (entity_id) REFERENCES public.final_entities(entity_id) ON DELETE CASCADE;


--
-- PostgreSQL database dump complete
--


-- Undo the session settings made above (pg_dump empties search_path).
RESET check_function_bodies;
RESET client_encoding;
RESET client_min_messages;
RESET default_table_access_method;
RESET default_tablespace;
RESET idle_in_transaction_session_timeout;
RESET lock_timeout;
RESET row_security;
RESET search_path;
RESET standard_conforming_strings;
RESET statement_timeout;
RESET xmloption;
