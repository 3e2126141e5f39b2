import { Type } from '@sinclair/typebox';
import type { Static } from '@sinclair/typebox';
import { listenerSchema, logSchema } from '@xmidt/runtime';
import { discoveryConfigSchema } from '@xmidt/discovery';

/** Petasos configuration: listeners, discovery of the Talaria instances, identity headers. */
export const petasosConfigSchema = Type.Object({
  primary: listenerSchema({ port: 6400 }),
  admin: listenerSchema({ port: 6401 }),
  log: logSchema(),
  discovery: discoveryConfigSchema,
  /** Name under which the Talaria instances are registered. */
  service: Type.String({ default: 'talaria', minLength: 1 }),
  /** Which hash-ring node name rule to use: the URL's hostname (current) or the whole URL. */
  nodeName: Type.Union([Type.Literal('hostname'), Type.Literal('url')], { default: 'hostname' }),
  /** Values of the X-Petasos-Server/-Build/-Region/-Flavor headers. */
  server: Type.String({ default: 'localhost' }),
  build: Type.String({ default: 'development' }),
  region: Type.String({ default: 'local' }),
  flavor: Type.String({ default: 'development' }),
});

export type PetasosConfig = Static<typeof petasosConfigSchema>;
