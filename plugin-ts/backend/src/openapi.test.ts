// The OpenAPI document is the API's promise: it must name every route the router serves, with
// the same methods, and nothing the router does not serve.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { createRouter } from './router';

it('describes exactly the routes the router serves', async () => {
  const doc = YAML.parse(fs.readFileSync(path.join(__dirname, '..', 'openapi.yaml'), 'utf8'));
  const documented = Object.entries<Record<string, unknown>>(doc.paths)
    .flatMap(([route, item]) =>
      Object.keys(item)
        .filter(key => ['get', 'post', 'put', 'delete', 'patch'].includes(key))
        .map(method => `${method.toUpperCase()} ${route.replace(/\{(\w+)\}/g, ':$1')}`),
    )
    .sort();
  const router: any = await createRouter({} as any);
  const served = router.stack
    .filter((layer: any) => layer.route)
    .flatMap((layer: any) => Object.keys(layer.route.methods).map(m => `${m.toUpperCase()} ${layer.route.path}`))
    .sort();
  expect(served.length).toBeGreaterThan(5);
  expect(documented).toEqual(served);
});
