// A container image reference as the lock and the spec write it: [registry[:port]/]path[:tag][@sha256:digest].
// The grammar is distribution/reference's (reference.go), without the parts ferry never writes (other digests).
import { z } from 'zod';

const component = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const domain = '(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::\\d{1,5})?';
const REF = new RegExp(`^(?:${domain}/)?${component}(?:/${component})*(?::[\\w][\\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$`);

export const ImageRef = z.string().regex(REF, 'must be an image reference such as registry.k8s.io/pause:3.10 (lowercase path, tag up to 128 characters)');
