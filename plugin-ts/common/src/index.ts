/**
 * Shared by the backup plugin's backend and frontend: permissions, API types and a typed client.
 *
 * @packageDocumentation
 */
export * from './permissions';
export * from './types';
export * from './client';
