// The one place @peculiar/x509 is loaded: its dependency injection (tsyringe) needs the Reflect
// metadata polyfill loaded first, and the library must be pointed at Node's WebCrypto before any
// certificate is made.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto);

export { x509 };
