// A minimal CRI image-service client (what kubelet uses to pull, list and garbage-collect images) over
// containerd's gRPC socket, with the few messages hand-encoded in protobuf wire format. Field numbers from
// kubernetes cri-api pkg/apis/runtime/v1/api.proto: ImageSpec{image=1}, PullImageRequest{image=1},
// PullImageResponse{image_ref=1}, ListImagesResponse{images=1}, Image{id=1, repo_tags=2, repo_digests=3, size=4},
// RemoveImageRequest{image=1}. Service `runtime.v1.ImageService`.
import { credentials, makeGenericClientConstructor, type Client, type ServiceError } from '@grpc/grpc-js';

export interface CriImage {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
}

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

/** A length-delimited field (wire type 2). */
function field(no: number, bytes: Buffer): Buffer {
  return Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
}

/** Decodes one message level: field number → raw values (Buffer for wire type 2, number for varints). */
function decode(buf: Buffer): Map<number, (Buffer | number)[]> {
  const fields = new Map<number, (Buffer | number)[]>();
  let i = 0;
  const readVarint = () => {
    let result = 0;
    let shift = 1;
    for (;;) {
      const b = buf[i++]!;
      result += (b & 0x7f) * shift;
      if (b < 0x80) return result;
      shift *= 128;
    }
  };
  while (i < buf.length) {
    const key = readVarint();
    const no = key >>> 3;
    const wire = key & 7;
    let value: Buffer | number;
    if (wire === 0) value = readVarint();
    else if (wire === 2) {
      const len = readVarint();
      value = buf.subarray(i, i + len);
      i += len;
    } else if (wire === 1) {
      value = buf.readDoubleLE(i);
      i += 8;
    } else if (wire === 5) {
      value = buf.readUInt32LE(i);
      i += 4;
    } else throw new Error(`unexpected protobuf wire type ${wire}`);
    fields.set(no, [...(fields.get(no) ?? []), value]);
  }
  return fields;
}

const strings = (m: Map<number, (Buffer | number)[]>, no: number) => (m.get(no) ?? []).map((v) => (v as Buffer).toString('utf8'));
const imageSpec = (ref: string) => field(1, field(1, Buffer.from(ref)));

const identity = (b: Buffer) => b;
const ImageService = makeGenericClientConstructor(
  Object.fromEntries(
    ['PullImage', 'ListImages', 'RemoveImage'].map((name) => [
      name,
      { path: `/runtime.v1.ImageService/${name}`, requestStream: false, responseStream: false, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
    ]),
  ),
  'ImageService',
);

export interface CriImageClient {
  /** Pull as kubelet does; returns the image id (image_ref). */
  pull(ref: string): Promise<string>;
  list(): Promise<CriImage[]>;
  remove(ref: string): Promise<void>;
  close(): void;
}

/** Connects to a containerd (or CRI-O) socket at `socketPath`. */
export function criImageClient(socketPath: string, timeoutMs = 60_000): CriImageClient {
  const client = new ImageService(`unix://${socketPath}`, credentials.createInsecure()) as Client & Record<string, Function>;
  const call = (method: string, body: Buffer) =>
    new Promise<Buffer>((resolve, reject) =>
      client[method]!(body, { deadline: Date.now() + timeoutMs }, (error: ServiceError | null, reply: Buffer) => (error ? reject(error) : resolve(reply))),
    );
  return {
    async pull(ref) {
      return strings(decode(await call('PullImage', imageSpec(ref))), 1)[0] ?? '';
    },
    async list() {
      const reply = decode(await call('ListImages', Buffer.alloc(0)));
      return (reply.get(1) ?? []).map((raw) => {
        const m = decode(raw as Buffer);
        return { id: strings(m, 1)[0] ?? '', repoTags: strings(m, 2), repoDigests: strings(m, 3), size: Number(m.get(4)?.[0] ?? 0) };
      });
    },
    async remove(ref) {
      await call('RemoveImage', imageSpec(ref));
    },
    close: () => client.close(),
  };
}
