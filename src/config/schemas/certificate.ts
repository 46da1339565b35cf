/** A server certificate with its key, served for the listed SNIs (or presented upstream by a service). */
import { Type, type Static } from '@sinclair/typebox';
import { Tags, Uuid } from './common.js';

const Pem = (description: string) => Type.String({ minLength: 1, description });

export const CertificateSchema = Type.Object(
  {
    id: Type.Optional(Uuid('Stable id; derived from the certificate when absent.')),
    cert: Pem('PEM certificate, leaf first, optionally followed by its chain.'),
    key: Pem('PEM private key matching `cert` (unencrypted).'),
    cert_alt: Type.Optional(Pem('Alternative certificate of another key type (RSA next to ECDSA).')),
    key_alt: Type.Optional(Pem('Key of `cert_alt`.')),
    snis: Type.Array(
      Type.Union([
        Type.String({ minLength: 1 }),
        Type.Object(
          { name: Type.String({ minLength: 1 }), id: Type.Optional(Uuid('Id of the SNI.')), tags: Type.Optional(Tags) },
          { additionalProperties: false },
        ),
      ]),
      { default: [], description: 'Server names served with it: `name` or `{ name }`; `*.example.com`; `*` = default.' },
    ),
    tags: Tags,
  },
  { additionalProperties: false },
);

export type CertificateInput = Static<typeof CertificateSchema>;
