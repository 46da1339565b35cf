/** A trusted CA certificate, referred to by id (from services and from plugins such as mtls-auth). */
import { Type, type Static } from '@sinclair/typebox';
import { Tags, Uuid } from './common.js';

export const CaCertificateSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Give it a fixed id: plugins refer to CA certificates by id.')),
    cert: Type.String({ minLength: 1, description: 'One PEM certificate with the CA basic constraint.' }),
    cert_digest: Type.Optional(
      Type.String({
        pattern: '^[0-9a-fA-F]{64}$',
        errorMessage: 'must be a hex SHA-256 digest',
        description: 'SHA-256 (hex) of the DER certificate; computed when absent.',
      }),
    ),
    tags: Tags,
  },
  { additionalProperties: false },
);

export type CaCertificateInput = Static<typeof CaCertificateSchema>;
