-- Arrays: literals, subscripts and slices, sizes, unnest, ANY/ALL, containment and overlap,
-- array functions and array_agg. Application: object-storage metadata with tags and ACLs,
-- and feature flags rolled out to customer segments.

CREATE TABLE objects (
  id int PRIMARY KEY,
  bucket text NOT NULL,
  key text NOT NULL,
  size bigint NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  part_sizes int[],
  readers text[]
);
INSERT INTO objects VALUES
  (1, 'media', 'img/cat.png', 20480, '{image,public}', '{8192,8192,4096}', '{alice,bob}'),
  (2, 'media', 'img/dog.jpg', 4096, ARRAY['image'], ARRAY[4096], ARRAY['alice']),
  (3, 'backups', 'db/2023-06-01.tar', 1073741824, '{backup,"cold storage"}', '{536870912,536870912}', NULL),
  (4, 'backups', 'db/2023-06-02.tar', 0, '{}', '{}', '{}'),
  (5, 'logs', 'app/1.log', 512, '{log,NULL}', NULL, '{ops,"o\"quote",NULL}');
SELECT id, tags, part_sizes, readers FROM objects ORDER BY id;
SELECT ARRAY[1, 2, 3], ARRAY['a', 'b'], ARRAY[1.5, 2], ARRAY[true, NULL], ARRAY[]::int[];
SELECT '{1,2,3}'::int[], '{a,"b c",NULL,"NULL"}'::text[], '{}'::text[], '{ 1 , 2 }'::int[];
SELECT ARRAY['a,b', 'c"d', 'e\f', '', ' sp '];
SELECT ARRAY[ARRAY[1, 2], ARRAY[3, 4]], '{{1,2},{3,4}}'::int[];
SELECT '[0:2]={7,8,9}'::int[], ('[0:2]={7,8,9}'::int[])[0];
SELECT ARRAY[1, 2] || ARRAY[3], ARRAY[1] || 2, 0 || ARRAY[1], ARRAY['x'] || ARRAY[]::text[];
SELECT id, tags[1], tags[2], tags[3], tags[0], tags[-1] FROM objects ORDER BY id;
SELECT id, part_sizes[2:3], part_sizes[:1], part_sizes[2:], part_sizes[5:9] FROM objects ORDER BY id;
SELECT (ARRAY[10, 20, 30, 40])[2:3], (ARRAY[10, 20, 30])[0:1], (ARRAY[10, 20, 30])[3:2];
SELECT ('{{1,2},{3,4}}'::int[])[2][1], ('{{1,2},{3,4}}'::int[])[1:2][2:2];
SELECT id, array_length(tags, 1), cardinality(tags), array_length(part_sizes, 1), cardinality(part_sizes) FROM objects ORDER BY id;
SELECT array_length(ARRAY[]::int[], 1), cardinality(ARRAY[]::int[]), array_length(ARRAY[1], 2), array_ndims(ARRAY[[1], [2]]);
SELECT array_dims(ARRAY[1, 2, 3]), array_dims('[0:1]={5,6}'::int[]), array_upper(ARRAY[5, 6], 1), array_lower(ARRAY[5, 6], 1);
SELECT id, array_upper(tags, 1), array_lower(tags, 1) FROM objects ORDER BY id;
SELECT unnest(ARRAY[3, 1, 2]) AS v ORDER BY v;
SELECT * FROM unnest(ARRAY['x', 'y', 'z']) WITH ORDINALITY AS t (tag, n) ORDER BY n;
SELECT * FROM unnest(ARRAY[1, 2, 3], ARRAY['a', 'b']) AS t (n, s) ORDER BY n;
SELECT o.id, t.tag, t.pos FROM objects o, unnest(o.tags) WITH ORDINALITY AS t (tag, pos) ORDER BY o.id, t.pos;
SELECT o.key, t.tag FROM objects o CROSS JOIN LATERAL unnest(o.tags) AS t (tag) WHERE t.tag IS NOT NULL ORDER BY o.key, t.tag;
SELECT tag, count(*) FROM objects, unnest(tags) AS tag GROUP BY tag ORDER BY count(*) DESC, tag NULLS LAST;
SELECT id, (SELECT sum(p) FROM unnest(part_sizes) p) AS total_parts, size FROM objects ORDER BY id;
SELECT id FROM objects WHERE size <> (SELECT coalesce(sum(p), 0) FROM unnest(part_sizes) p) ORDER BY id;
SELECT unnest('{}'::int[]);
SELECT unnest(ARRAY[[1, 2], [3, 4]]) AS v ORDER BY v;
SELECT id FROM objects WHERE 'image' = ANY (tags) ORDER BY id;
SELECT id FROM objects WHERE 'alice' = ANY (readers) ORDER BY id;
SELECT id FROM objects WHERE 'alice' <> ALL (readers) ORDER BY id;
SELECT id FROM objects WHERE NOT ('alice' = ANY (readers)) ORDER BY id;
SELECT id FROM objects WHERE 4096 = ANY (part_sizes) ORDER BY id;
SELECT id FROM objects WHERE 1000 < ALL (part_sizes) ORDER BY id;
SELECT id FROM objects WHERE id = ANY (ARRAY[1, 3, 99]) ORDER BY id;
SELECT id FROM objects WHERE id = ANY ('{2,4}') ORDER BY id;
SELECT id FROM objects WHERE key LIKE ANY (ARRAY['img/%', '%.log']) ORDER BY id;
SELECT 1 = ANY (ARRAY[1, NULL]), 2 = ANY (ARRAY[1, NULL]), 2 <> ALL (ARRAY[1, NULL]), 1 = ANY ('{}'::int[]), 1 = ALL ('{}'::int[]);
SELECT NULL::int = ANY (ARRAY[1]), 1 = ANY (NULL::int[]);
SELECT id FROM objects WHERE tags @> ARRAY['image'] ORDER BY id;
SELECT id FROM objects WHERE tags @> '{image,public}' ORDER BY id;
SELECT id FROM objects WHERE tags <@ ARRAY['image', 'public', 'backup'] ORDER BY id;
SELECT id FROM objects WHERE tags && ARRAY['backup', 'log'] ORDER BY id;
SELECT id FROM objects WHERE NOT tags && '{image}' ORDER BY id;
SELECT ARRAY[1, 2, 2] @> ARRAY[2, 2, 2], ARRAY[1, NULL] @> ARRAY[NULL::int], ARRAY[]::int[] <@ ARRAY[1], ARRAY[1, 2] && ARRAY[3];
SELECT ARRAY[1, 2] = ARRAY[1, 2], ARRAY[1, 2] < ARRAY[1, 3], ARRAY[1, 2] < ARRAY[1, 2, 0], ARRAY[2] > ARRAY[1, 9], ARRAY[1, NULL] = ARRAY[1, NULL];
SELECT v FROM (VALUES (ARRAY[2, 1]), (ARRAY[1, 2, 3]), (ARRAY[1, 2]), (ARRAY[]::int[]), (ARRAY[1, NULL]), (NULL)) t (v) ORDER BY v NULLS FIRST;
SELECT array_append(ARRAY[1, 2], 3), array_append(NULL::int[], 1), array_append(ARRAY['a'], NULL);
SELECT array_prepend(0, ARRAY[1, 2]), array_prepend('z', '{}'::text[]);
SELECT array_cat(ARRAY[1, 2], ARRAY[3, 4]), array_cat(NULL, ARRAY[1]), array_cat(ARRAY[1], NULL);
SELECT array_remove(ARRAY[1, 2, 1, 3], 1), array_remove(ARRAY['a', NULL, 'b'], NULL), array_remove(ARRAY[1], 9);
SELECT array_replace(ARRAY[1, 2, 1], 1, 7), array_replace(ARRAY['a', NULL], NULL, 'n');
SELECT array_position(ARRAY['a', 'b', 'c', 'b'], 'b'), array_position(ARRAY['a', 'b', 'c', 'b'], 'b', 3), array_position(ARRAY[1, 2], 9), array_position(ARRAY[1, NULL], NULL);
SELECT array_positions(ARRAY[1, 2, 1, 1], 1), array_positions(ARRAY['x'], 'y');
SELECT string_to_array('a,b,,c', ','), string_to_array('a b c', ' '), string_to_array('abc', ''), string_to_array('abc', NULL);
SELECT string_to_array('a,*,c', ',', '*'), string_to_array('', ','), string_to_array(NULL, ',');
SELECT array_to_string(ARRAY[1, NULL, 3], ','), array_to_string(ARRAY[1, NULL, 3], ',', '?'), array_to_string(ARRAY[]::int[], ',');
SELECT id, array_to_string(tags, ' | ') FROM objects ORDER BY id;
SELECT bucket, array_agg(key ORDER BY key) FROM objects GROUP BY bucket ORDER BY bucket;
SELECT array_agg(id ORDER BY id DESC), array_agg(DISTINCT bucket), array_agg(readers[1] ORDER BY id) FROM objects;
SELECT array_agg(x ORDER BY x DESC) FROM (VALUES (1), (NULL), (3)) t (x);
SELECT array_agg(x) FROM (VALUES (1)) t (x) WHERE false;
SELECT array_agg(tags ORDER BY id) FROM objects WHERE id < 3;
SELECT bucket, sum(size), array_agg(size ORDER BY size DESC) FILTER (WHERE size > 0) FROM objects GROUP BY bucket ORDER BY 1;
SELECT array_agg(DISTINCT t ORDER BY t) FROM objects, unnest(tags) t WHERE t IS NOT NULL;
SELECT ARRAY(SELECT key FROM objects WHERE bucket = 'media' ORDER BY key DESC);
SELECT ARRAY(SELECT id FROM objects WHERE false);
SELECT id, tags FROM objects ORDER BY tags, id;
SELECT DISTINCT tags FROM objects ORDER BY tags;
SELECT tags, count(*) FROM objects GROUP BY tags ORDER BY tags;
SELECT '{1,2}'::int[]::text[], ARRAY['1', '2']::int[], ARRAY[1.5, 2.5]::int[], '{t,f}'::bool[];
SELECT ARRAY[1, 2]::text, '{"a b"}'::text[]::text, ARRAY['x']::varchar[];
SELECT '{1,a}'::int[];
SELECT ARRAY[1, 'a'];
SELECT ARRAY[1, 2]::bigint[] || 3::bigint, pg_typeof(ARRAY[1, 2]), pg_typeof(ARRAY[1.5]), pg_typeof(ARRAY['a'::text]);
SELECT array_fill(0, ARRAY[3]), array_fill('x'::text, ARRAY[2]);
SELECT trim_array(ARRAY[1, 2, 3, 4], 2), trim_array(ARRAY[1], 1);
UPDATE objects SET tags = array_append(tags, 'archived') WHERE bucket = 'backups' RETURNING id, tags;
UPDATE objects SET tags = array_remove(tags, 'public') WHERE id = 1 RETURNING tags;
UPDATE objects SET readers = array_cat(readers, ARRAY['carol']) WHERE readers IS NOT NULL RETURNING id, readers;
UPDATE objects SET tags[1] = 'picture' WHERE id = 2 RETURNING tags;
UPDATE objects SET part_sizes[4] = 1 WHERE id = 1 RETURNING part_sizes;
SELECT id, tags, readers FROM objects ORDER BY id;
SELECT id FROM objects WHERE cardinality(readers) > 2 ORDER BY id;
SELECT id, coalesce(array_length(readers, 1), 0) AS nreaders FROM objects ORDER BY nreaders DESC, id;
SELECT key FROM objects WHERE 'carol' = ANY (readers) AND NOT 'ops' = ANY (readers) ORDER BY key;
CREATE TABLE flags (name text PRIMARY KEY, segments text[] NOT NULL, percent int[] NOT NULL);
INSERT INTO flags VALUES ('new-billing', '{beta,staff}', '{10,50,100}'), ('dark-mode', '{all}', '{100}'), ('ai-search', '{staff}', '{1,5}'), ('legacy-export', '{}', '{}');
SELECT name FROM flags WHERE segments && ARRAY['staff', 'beta'] ORDER BY name;
SELECT name, percent[array_upper(percent, 1)] AS final_percent FROM flags ORDER BY name;
SELECT name, percent[cardinality(percent)] FROM flags ORDER BY name;
SELECT s, array_agg(name ORDER BY name) FROM flags, unnest(segments) s GROUP BY s ORDER BY s;
SELECT name FROM flags WHERE segments = '{}' ORDER BY name;
SELECT name, array_position(percent, 50) FROM flags ORDER BY name;
SELECT name FROM flags WHERE 100 = ANY (percent) ORDER BY name;
UPDATE flags SET segments = array_prepend('qa', segments) WHERE name = 'ai-search' RETURNING segments;
UPDATE flags SET percent = percent || 100 WHERE NOT 100 = ANY (percent) RETURNING name, percent;
SELECT name, percent FROM flags ORDER BY name;
SELECT f.name, p, n FROM flags f, unnest(f.percent) WITH ORDINALITY AS u (p, n) ORDER BY f.name, n;
SELECT max(cardinality(percent)), min(cardinality(segments)) FROM flags;
SELECT array_to_string(array_agg(name ORDER BY name), ', ') FROM flags WHERE cardinality(segments) > 0;
SELECT name FROM flags ORDER BY cardinality(segments) DESC, name;
SELECT ARRAY[id, id * 2] FROM objects ORDER BY id;
SELECT ARRAY[key, bucket] FROM objects ORDER BY id;
SELECT id, ARRAY[size] || part_sizes::bigint[] FROM objects WHERE part_sizes IS NOT NULL ORDER BY id;
SELECT (string_to_array(key, '/'))[1] AS dir, count(*) FROM objects GROUP BY 1 ORDER BY 1;
SELECT key, (string_to_array(key, '/'))[array_length(string_to_array(key, '/'), 1)] AS basename FROM objects ORDER BY id;
SELECT key, split_part(key, '/', 2), regexp_split_to_array(key, '[/.]') FROM objects ORDER BY id;
SELECT array_to_string(regexp_split_to_array('a1b22c', '[0-9]+'), '-');
SELECT array_length(string_to_array('2023-06-01', '-'), 1), (string_to_array('2023-06-01', '-'))[2]::int;
SELECT ARRAY[NULL]::int[], ARRAY[NULL, NULL]::text[], array_length(ARRAY[NULL]::int[], 1);
SELECT '{NULL}'::text[] = ARRAY[NULL]::text[], '{"NULL"}'::text[] = ARRAY['NULL'];
SELECT ARRAY['a'] = '{a}', ARRAY[1, 2] <> ARRAY[2, 1], ARRAY[1] IS DISTINCT FROM ARRAY[1];
SELECT (ARRAY[1, 2, 3])[1.7], (ARRAY[1, 2, 3])['2'], (ARRAY[1, 2, 3])[NULL];
SELECT (ARRAY['a', 'b'])[1] || (ARRAY['c'])[1];
SELECT id, tags[1] IS NULL AS no_tag FROM objects ORDER BY id;
SELECT count(*) FILTER (WHERE 'image' = ANY (tags)), count(*) FILTER (WHERE tags = '{}') FROM objects;
SELECT array_agg(n ORDER BY n) FROM generate_series(1, 5) n;
SELECT array_agg(n ORDER BY n DESC) FILTER (WHERE n % 2 = 1) FROM generate_series(1, 9) n;
SELECT sum(n) FROM unnest(ARRAY[1, 2, 3, NULL]) n;
SELECT count(*) FROM unnest(ARRAY[1, NULL, 3]) n;
SELECT avg(x)::numeric(5,2) FROM unnest('{1.5,2.5,4}'::numeric[]) x;
SELECT unnest(ARRAY[1, 2]) + 10 AS v ORDER BY v;
SELECT n, unnest(ARRAY['a', 'b']) AS s FROM generate_series(1, 2) n ORDER BY n, s;
SELECT array_agg(ARRAY[n, n * n] ORDER BY n) FROM generate_series(1, 3) n;
SELECT string_agg(t, '+' ORDER BY t) FROM unnest('{c,a,b}'::text[]) t;
SELECT ARRAY[1, 2, 3] @> ARRAY[1.0], ARRAY['a'] @> ARRAY[NULL]::text[];
SELECT '{1,2}'::int[] && NULL, ARRAY[1] @> NULL;
SELECT ARRAY[1, 2][1];
SELECT tags[1:1] FROM objects ORDER BY id;
SELECT '{{1,2},{3}}'::int[];
SELECT ARRAY[1, 2] = ARRAY[1, 2]::bigint[];
SELECT array_remove(ARRAY[ARRAY[1, 2], ARRAY[3, 4]], 1);
SELECT array_length(ARRAY[1, 2], 0), array_length(ARRAY[1, 2], NULL);
SELECT cardinality('{{1,2},{3,4}}'::int[]), array_length('{{1,2},{3,4}}'::int[], 2);
SELECT array_position('{a,b}'::text[], 'b'), array_position(ARRAY[1.5, 2.5], 2.5);
SELECT array_to_string(ARRAY['a', 'b'], NULL), array_to_string(NULL::text[], ',');
SELECT id FROM objects WHERE readers IS NULL OR readers = '{}' ORDER BY id;
SELECT bucket, bool_and('image' = ANY (tags)) FROM objects GROUP BY bucket ORDER BY bucket;
DELETE FROM objects WHERE tags && '{archived}' RETURNING id;
SELECT count(*), array_agg(id ORDER BY id) FROM objects;
-- Permissions as arrays on roles.
CREATE TABLE roles (name text PRIMARY KEY, grants text[] NOT NULL, inherits text[] NOT NULL DEFAULT '{}');
INSERT INTO roles VALUES ('viewer', '{object.read,bucket.list}', '{}'), ('editor', '{object.write,object.delete}', '{viewer}'), ('admin', '{bucket.create,bucket.delete,acl.write}', '{editor}'), ('auditor', '{audit.read}', '{viewer}');
SELECT name, cardinality(grants) FROM roles ORDER BY name;
SELECT name FROM roles WHERE grants @> '{object.write}' OR 'editor' = ANY (inherits) ORDER BY name;
WITH RECURSIVE eff (role, grants, depth) AS (SELECT name, grants, 0 FROM roles UNION ALL SELECT e.role, r.grants, e.depth + 1 FROM eff e JOIN roles x ON x.name = e.role JOIN roles r ON r.name = ANY (x.inherits) WHERE e.depth < 5 AND r.name <> e.role) SELECT role, array_agg(DISTINCT g ORDER BY g) FROM eff, unnest(grants) g GROUP BY role ORDER BY role;
SELECT r.name, g FROM roles r, unnest(r.grants) g WHERE g LIKE 'bucket.%' ORDER BY r.name, g;
SELECT split_part(g, '.', 1) AS resource, count(*) FROM roles, unnest(grants) g GROUP BY 1 ORDER BY 1;
SELECT name, array_to_string(grants || inherits, ';') FROM roles ORDER BY name;
UPDATE roles SET grants = array_append(grants, 'audit.export') WHERE name = 'auditor' RETURNING grants;
UPDATE roles SET grants = array_remove(grants, 'bucket.delete') WHERE 'bucket.delete' = ANY (grants) RETURNING name, grants;
SELECT name FROM roles WHERE grants && (SELECT grants FROM roles WHERE name = 'viewer') ORDER BY name;
SELECT name FROM roles WHERE cardinality(inherits) = 0;
SELECT array_agg(name ORDER BY cardinality(grants) DESC, name) FROM roles;
SELECT name, array_position(grants, 'object.read') FROM roles ORDER BY name;
SELECT (SELECT array_agg(g ORDER BY g) FROM unnest(grants) g) FROM roles WHERE name = 'admin';
SELECT name, grants[cardinality(grants)] AS last_grant FROM roles ORDER BY name;
SELECT array_cat(grants, ARRAY['x']) FROM roles WHERE name = 'viewer';
SELECT ARRAY['b', 'a'] < ARRAY['b', 'b'], ARRAY['a'] <@ (SELECT grants FROM roles WHERE name = 'viewer');
SELECT count(*) FROM roles, unnest(inherits) i;
SELECT i, count(*) FROM roles, unnest(inherits) i GROUP BY i ORDER BY i;
SELECT name, inherits[1] FROM roles WHERE inherits <> '{}' ORDER BY name;
SELECT array_length(array_agg(DISTINCT g), 1) FROM roles, unnest(grants) g;
