# Writes the fuzz_grpc_requests seeds (fuzz/corpus/fuzz_grpc_requests/): one byte naming the call, then
# the request in protobuf wire format, written by hand so no protobuf Python package is needed.
# Usage, from the repository root: python3 fuzz/make_grpc_seeds.py fuzz/corpus/fuzz_grpc_requests \
#   OBSERVATION_SIZE NUM_ACTIONS   (of the tiny experiment; fuzz_grpc_requests prints them)
import json, struct, sys
out = sys.argv[1]
obs_size = int(sys.argv[2]) if len(sys.argv) > 2 else 0
num_actions = int(sys.argv[3]) if len(sys.argv) > 3 else 0

def varint(n):
    n &= (1 << 64) - 1
    b = b''
    while True:
        x = n & 0x7f; n >>= 7
        if n: b += bytes([x | 0x80])
        else: return b + bytes([x])
def key(field, wt): return varint(field << 3 | wt)
def vi(field, n): return key(field, 0) + varint(n)
def ld(field, data):
    if isinstance(data, str): data = data.encode()
    return key(field, 2) + varint(len(data)) + data
def packed_varints(field, xs): return ld(field, b''.join(varint(x) for x in xs))
def packed_floats(field, xs): return ld(field, b''.join(struct.pack('<f', x) for x in xs))

tiny = json.load(open('configs/experiments/tiny-test.json'))
twin = {k: tiny[k] for k in ('network', 'traffic', 'env')}
twin['env']['episode_length'] = 9; twin['env']['warmup'] = 40
seeds = {
  'open-batch': b'\0' + ld(1, json.dumps(twin)) + vi(3, 2) + vi(4, 5) + vi(6, 4) + ld(8, 'seed'),
  'open-batch-use-case': b'\0' + ld(1, json.dumps(tiny)) + ld(2, 'latency-rsa') + vi(3, 1) + vi(5, 3) + vi(6, 4) + vi(7, 1),
  'open-batch-bad-json': b'\0' + ld(1, '{"network": ') + vi(3, 1),
  'reset': b'\1' + vi(1, 1) + packed_varints(2, [1, 2]),
  'reset-wrong-seeds': b'\1' + vi(1, 1) + packed_varints(2, [1, 2, 3]),
  'step': b'\2' + vi(1, 1) + packed_varints(2, [0, 3]),
  'step-out-of-range': b'\2' + vi(1, 1) + packed_varints(2, [-1, 999999]),
  'step-unknown-handle': b'\2' + vi(1, 12345678) + packed_varints(2, [0, 0]),
  'close-unknown': b'\3' + vi(1, 99),
  'health': b'\4',
  'model-info': b'\6',
}
if obs_size:
    seeds['infer'] = b'\5' + vi(1, 2) + packed_floats(2, [0.5] * (2 * obs_size)) + ld(3, bytes([1, 0] * num_actions)) + vi(4, 1)
    seeds['infer-nothing-feasible'] = b'\5' + vi(1, 1) + packed_floats(2, [float('nan')] * obs_size) + ld(3, bytes(num_actions))
    seeds['infer-wrong-size'] = b'\5' + vi(1, 3) + packed_floats(2, [1.0] * obs_size) + ld(3, bytes(num_actions))
    seeds['infer-nan'] = b'\5' + vi(1, 1) + packed_floats(2, [float('nan')] * obs_size) + ld(3, bytes([1] * num_actions))
    seeds['infer-inf-scores'] = b'\5' + vi(1, 1) + packed_floats(2, [float('inf')] * obs_size) + ld(3, bytes([0, 0, 1, 0, 1][:num_actions])) + vi(4, 1)
for name, data in seeds.items():
    open(out + '/' + name + '.bin', 'wb').write(data)
