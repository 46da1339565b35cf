/**
 * Consumer groups (Kong Enterprise) as decK writes them: the top-level `consumer_groups` section,
 * each with the consumers in it and the plugins scoped to it, and the `groups` list under a
 * consumer (decK's dump form). Kong's entity: `kong/db/schema/entities/consumer_groups.lua` (EE):
 * `id`, `name` (required, unique), `tags`.
 */
import { Type, type Static } from '@sinclair/typebox';
import { ConsumerReference, Tags, Uuid } from './common.js';
import { PluginEntitySchema } from './plugin.js';

export const ConsumerGroupSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from the name when absent.')),
    name: Type.String({ minLength: 1, description: 'Unique name; plugins and consumers refer to the group by it.' }),
    tags: Tags,
    consumers: Type.Optional(Type.Array(ConsumerReference, { description: 'Members, by username or id (decK: `- username: alice`).' })),
    plugins: Type.Optional(Type.Array(PluginEntitySchema, { description: 'Plugins scoped to this group.' })),
  },
  { additionalProperties: false },
);

export type ConsumerGroupInput = Static<typeof ConsumerGroupSchema>;

/**
 * A consumer's group, under `consumers[].groups`: `- name: gold` (decK's dump, which may add the
 * group's id and tags), `{ id }`, or the name or id as a string. A group is only named here; its
 * own fields are the `consumer_groups` entry's.
 */
export const GroupMembershipSchema = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object(
      {
        id: Type.Optional(Uuid('Id of the group.')),
        name: Type.Optional(Type.String({ minLength: 1 })),
        tags: Type.Optional(Tags),
      },
      { additionalProperties: false, minProperties: 1, errorMessage: "must have 'id' or 'name'" },
    ),
  ],
  { description: 'A consumer group the consumer is in, by name or id.' },
);
