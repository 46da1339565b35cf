/**
 * Building blocks shared by the entity schemas. Every field carries a `description` so the docs can
 * be generated from the schemas, and an optional `errorMessage` that replaces ajv's generic wording
 * for pattern and format failures (see `ajv-errors.ts`).
 */
import { Type, type SchemaOptions, type TUnsafe } from '@sinclair/typebox';

/** A closed set of values as a plain JSON-schema `enum`: one clear error instead of an anyOf per value. */
export function StringEnum<const T extends readonly string[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

export function IntegerEnum<const T extends readonly number[]>(values: T, options: SchemaOptions = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'integer', enum: [...values] });
}

const UUID_PATTERN = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** Kong entity ids are UUIDs. */
export function Uuid(description: string) {
  return Type.String({ pattern: UUID_PATTERN, description, errorMessage: 'must be a UUID' });
}

/** Kong's `utf8_name`: letters, digits and `.-_~`. */
export function Name(description: string) {
  return Type.String({
    minLength: 1,
    pattern: '^[\\p{L}\\p{N}._~-]+$',
    description,
    errorMessage: "must only contain letters, digits and '.', '-', '_', '~'",
  });
}

/** Free-form labels; Kong forbids `,` and `/` in them because they separate tags in queries. */
export const Tags = Type.Array(
  Type.String({ minLength: 1, pattern: '^[^,/]+$', errorMessage: "must not contain ',' or '/'" }),
  { default: [], description: 'Labels for grouping and filtering; not used for routing.' },
);

/**
 * A reference to a service or route: `name-or-id`, `{ name: … }` or `{ id: … }` (decK writes the
 * object forms, people write the string).
 */
export function EntityReference(kind: string) {
  return Type.Union(
    [
      Type.String({ minLength: 1 }),
      Type.Object(
        { id: Type.Optional(Uuid(`Id of the ${kind}.`)), name: Type.Optional(Type.String({ minLength: 1 })) },
        { additionalProperties: false, minProperties: 1, errorMessage: "must have 'id' or 'name'" },
      ),
    ],
    { description: `The ${kind}, by name or id.` },
  );
}

/** A consumer reference: `username-or-id`, `{ username: … }` (`{ name: … }` is read the same way) or `{ id: … }`. */
export const ConsumerReference = Type.Union(
  [
    Type.String({ minLength: 1 }),
    Type.Object(
      {
        id: Type.Optional(Uuid('Id of the consumer.')),
        username: Type.Optional(Type.String({ minLength: 1 })),
        name: Type.Optional(Type.String({ minLength: 1, description: 'Same as username.' })),
      },
      { additionalProperties: false, minProperties: 1, errorMessage: "must have 'id' or 'username'" },
    ),
  ],
  { description: 'The consumer, by username or id.' },
);

/** decK sections Portcullis does not implement yet: accepted when empty, refused with a clear message otherwise. */
export const Unsupported = Type.Unknown({ description: 'Not supported by Portcullis yet; must be empty.' });
