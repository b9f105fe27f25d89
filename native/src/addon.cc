// N-API glue: argument unpacking and bounds checks, then one call into the kernels. Compiled
// without -mavx2 so that loading the addon and asking `cpuSupported()` is safe on any x86-64; the
// JS side calls kernels only after that said yes.
//
// Calling convention (kept cheap: no JS objects are created per call): typed arrays are passed
// whole with an element offset, sizes and strides as numbers, enums as their index in the TS
// lists (UNARY_OPS, BINARY_OPS), and the thread pool as an external from createPool().
#include <node_api.h>

#include <cstdint>
#include <cstdio>

#include "cpu_features.h"
#include "kernels.h"
#include "thread_pool.h"

namespace dissect {
namespace {

constexpr size_t kMaxArgs = 20;

struct PoolHandle {
  ThreadPool* pool;
};

/** Arguments of one call; the first failure throws a JS error naming the call and argument. */
class Args {
 public:
  Args(napi_env env, napi_callback_info info, size_t expected, const char* call) : env_(env), call_(call) {
    size_t count = kMaxArgs;
    if (napi_get_cb_info(env, info, &count, argv_, nullptr, nullptr) != napi_ok || count < expected) {
      char message[160];
      std::snprintf(message, sizeof message, "%s: expected %zu arguments, got %zu", call, expected, count);
      napi_throw_type_error(env_, nullptr, message);
      ok_ = false;
    }
  }
  bool ok() const { return ok_; }

  int64_t integer(size_t i) {
    int64_t value = 0;
    if (ok_ && napi_get_value_int64(env_, argv_[i], &value) != napi_ok) fail(i, "a number");
    return value;
  }
  double number(size_t i) {
    double value = 0;
    if (ok_ && napi_get_value_double(env_, argv_[i], &value) != napi_ok) fail(i, "a number");
    return value;
  }
  bool boolean(size_t i) {
    bool value = false;
    if (ok_ && napi_get_value_bool(env_, argv_[i], &value) != napi_ok) fail(i, "a boolean");
    return value;
  }
  /** A Float32Array; `length` receives its element count. Null or undefined gives nullptr when allowed. */
  float* floats(size_t i, int64_t* length, bool nullable = false) {
    *length = 0;
    if (!ok_) return nullptr;
    if (nullable) {
      napi_valuetype type;
      napi_typeof(env_, argv_[i], &type);
      if (type == napi_null || type == napi_undefined) return nullptr;
    }
    napi_typedarray_type type;
    size_t count = 0;
    void* data = nullptr;
    if (napi_get_typedarray_info(env_, argv_[i], &type, &count, &data, nullptr, nullptr) != napi_ok ||
        type != napi_float32_array) {
      fail(i, nullable ? "a Float32Array or null" : "a Float32Array");
      return nullptr;
    }
    *length = static_cast<int64_t>(count);
    return static_cast<float*>(data);
  }
  ThreadPool* pool(size_t i) {
    void* data = nullptr;
    if (!ok_) return nullptr;
    if (napi_get_value_external(env_, argv_[i], &data) != napi_ok || !data ||
        !static_cast<PoolHandle*>(data)->pool) {
      fail(i, "a live thread pool from createPool()");
      return nullptr;
    }
    return static_cast<PoolHandle*>(data)->pool;
  }
  /** Fails unless [offset, offset + extent) lies inside an array of `length` elements. */
  void in_bounds(int64_t offset, int64_t extent, int64_t length, const char* what) {
    if (ok_ && (offset < 0 || extent < 0 || offset + extent > length)) {
      char message[200];
      std::snprintf(message, sizeof message, "%s: %s needs elements [%lld, %lld) of an array of %lld", call_, what,
                    static_cast<long long>(offset), static_cast<long long>(offset + extent),
                    static_cast<long long>(length));
      fail_range(message);
    }
  }
  /** A bad size, stride or enum value. */
  void fail_range(const char* message) {
    if (ok_) napi_throw_range_error(env_, nullptr, message);
    ok_ = false;
  }

 private:
  void fail(size_t i, const char* expected) {
    char message[160];
    std::snprintf(message, sizeof message, "%s: argument %zu must be %s", call_, i, expected);
    if (ok_) napi_throw_type_error(env_, nullptr, message);
    ok_ = false;
  }

  napi_env env_;
  const char* call_;
  napi_value argv_[kMaxArgs];
  bool ok_ = true;
};

/** Elements a strided [batch, rows, cols] operand spans from its first element (all strides >= 0). */
int64_t span(int64_t batch, int64_t bs, int64_t rows, int64_t rs, int64_t cols, int64_t cs) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return (batch - 1) * bs + (rows - 1) * rs + (cols - 1) * cs + 1;
}

napi_value CpuSupported(napi_env env, napi_callback_info) {
  napi_value result;
  napi_get_boolean(env, cpu_has_avx2_fma(), &result);
  return result;
}

void FinalizePool(napi_env, void* data, void*) {
  auto* handle = static_cast<PoolHandle*>(data);
  if (handle->pool) pool_destroy(handle->pool);
  delete handle;
}

napi_value CreatePool(napi_env env, napi_callback_info info) {
  Args args(env, info, 1, "createPool");
  int64_t threads = args.integer(0);
  if (!args.ok()) return nullptr;
  if (threads < 1 || threads > 256) {
    args.fail_range("createPool: threads must be between 1 and 256");
    return nullptr;
  }
  auto* handle = new PoolHandle{pool_create(static_cast<int>(threads))};
  napi_value result;
  napi_create_external(env, handle, FinalizePool, nullptr, &result);
  return result;
}

napi_value DestroyPool(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  size_t count = 1;
  void* data = nullptr;
  napi_get_cb_info(env, info, &count, argv, nullptr, nullptr);
  if (count == 1 && napi_get_value_external(env, argv[0], &data) == napi_ok && data) {
    auto* handle = static_cast<PoolHandle*>(data);
    if (handle->pool) pool_destroy(handle->pool);
    handle->pool = nullptr;
  }
  return nullptr;
}

// matmul(pool, a, aOffset, aBatchStride, aRowStride, aColStride, b, bOffset, bBatchStride,
//        bRowStride, bColStride, batch, m, k, n, out, accumulate)
napi_value Matmul(napi_env env, napi_callback_info info) {
  Args args(env, info, 17, "matmul");
  ThreadPool* pool = args.pool(0);
  int64_t a_length, b_length, out_length;
  float* a = args.floats(1, &a_length);
  int64_t a_offset = args.integer(2), a_bs = args.integer(3), a_rs = args.integer(4), a_cs = args.integer(5);
  float* b = args.floats(6, &b_length);
  int64_t b_offset = args.integer(7), b_bs = args.integer(8), b_rs = args.integer(9), b_cs = args.integer(10);
  int64_t batch = args.integer(11), m = args.integer(12), k = args.integer(13), n = args.integer(14);
  float* out = args.floats(15, &out_length);
  bool accumulate = args.boolean(16);
  if (!args.ok()) return nullptr;
  if (a_bs < 0 || a_rs < 0 || a_cs < 0 || b_bs < 0 || b_rs < 0 || b_cs < 0 || batch < 0 || m < 0 || k < 0 ||
      n < 0 || batch > INT32_MAX || m > INT32_MAX || k > INT32_MAX || n > INT32_MAX) {
    args.fail_range("matmul: strides and sizes must be non-negative 32-bit integers");
    return nullptr;
  }
  args.in_bounds(a_offset, span(batch, a_bs, m, a_rs, k, a_cs), a_length, "a");
  args.in_bounds(b_offset, span(batch, b_bs, k, b_rs, n, b_cs), b_length, "b");
  args.in_bounds(0, batch * m * n, out_length, "out");
  if (!args.ok()) return nullptr;
  matmul(pool, MatrixArg{a + a_offset, a_bs, a_rs, a_cs}, MatrixArg{b + b_offset, b_bs, b_rs, b_cs},
         static_cast<int>(batch), static_cast<int>(m), static_cast<int>(k), static_cast<int>(n), out, accumulate);
  return nullptr;
}

int64_t operand_extent(Broadcast mode, int64_t rows, int64_t n) {
  return mode == Broadcast::full ? rows * n : mode == Broadcast::row ? n : rows;
}

// binary(pool, op, a, aOffset, aMode, b, bOffset, bMode, rows, n, out)
napi_value Binary(napi_env env, napi_callback_info info) {
  Args args(env, info, 11, "binary");
  ThreadPool* pool = args.pool(0);
  int64_t op = args.integer(1);
  int64_t a_length, b_length, out_length;
  float* a = args.floats(2, &a_length);
  int64_t a_offset = args.integer(3), a_mode = args.integer(4);
  float* b = args.floats(5, &b_length);
  int64_t b_offset = args.integer(6), b_mode = args.integer(7);
  int64_t rows = args.integer(8), n = args.integer(9);
  float* out = args.floats(10, &out_length);
  if (!args.ok()) return nullptr;
  int64_t modes = static_cast<int64_t>(Broadcast::count);
  if (op < 0 || op >= static_cast<int64_t>(BinaryOp::count) || a_mode < 0 || a_mode >= modes || b_mode < 0 ||
      b_mode >= modes || rows < 0 || n < 0) {
    args.fail_range("binary: bad op, broadcast mode or size");
    return nullptr;
  }
  auto am = static_cast<Broadcast>(a_mode), bm = static_cast<Broadcast>(b_mode);
  args.in_bounds(a_offset, operand_extent(am, rows, n), a_length, "a");
  args.in_bounds(b_offset, operand_extent(bm, rows, n), b_length, "b");
  args.in_bounds(0, rows * n, out_length, "out");
  if (!args.ok()) return nullptr;
  if (rows > 0 && n > 0) binary(pool, static_cast<BinaryOp>(op), a + a_offset, am, b + b_offset, bm, rows, n, out);
  return nullptr;
}

// binaryScalar(pool, op, x, xOffset, scalar, scalarOnLeft, length, out)
napi_value BinaryScalar(napi_env env, napi_callback_info info) {
  Args args(env, info, 8, "binaryScalar");
  ThreadPool* pool = args.pool(0);
  int64_t op = args.integer(1);
  int64_t x_length, out_length;
  float* x = args.floats(2, &x_length);
  int64_t x_offset = args.integer(3);
  double scalar = args.number(4);
  bool scalar_on_left = args.boolean(5);
  int64_t length = args.integer(6);
  float* out = args.floats(7, &out_length);
  if (!args.ok()) return nullptr;
  if (op < 0 || op >= static_cast<int64_t>(BinaryOp::count)) {
    args.fail_range("binaryScalar: bad op");
    return nullptr;
  }
  args.in_bounds(x_offset, length, x_length, "x");
  args.in_bounds(0, length, out_length, "out");
  if (!args.ok()) return nullptr;
  binary_scalar(pool, static_cast<BinaryOp>(op), x + x_offset, static_cast<float>(scalar), scalar_on_left, length,
                out);
  return nullptr;
}

// unary(pool, op, x, xOffset, length, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  Args args(env, info, 6, "unary");
  ThreadPool* pool = args.pool(0);
  int64_t op = args.integer(1);
  int64_t x_length, out_length;
  float* x = args.floats(2, &x_length);
  int64_t x_offset = args.integer(3), length = args.integer(4);
  float* out = args.floats(5, &out_length);
  if (!args.ok()) return nullptr;
  if (op < 0 || op >= static_cast<int64_t>(UnaryOp::count)) {
    args.fail_range("unary: bad op");
    return nullptr;
  }
  args.in_bounds(x_offset, length, x_length, "x");
  args.in_bounds(0, length, out_length, "out");
  if (!args.ok()) return nullptr;
  unary(pool, static_cast<UnaryOp>(op), x + x_offset, length, out);
  return nullptr;
}

// softmax(pool, x, rows, n, log, causalQueryLen (0: none), causalOffset, out)
napi_value Softmax(napi_env env, napi_callback_info info) {
  Args args(env, info, 8, "softmax");
  ThreadPool* pool = args.pool(0);
  int64_t x_length, out_length;
  float* x = args.floats(1, &x_length);
  int64_t rows = args.integer(2), n = args.integer(3);
  bool log = args.boolean(4);
  int64_t query_len = args.integer(5), offset = args.integer(6);
  float* out = args.floats(7, &out_length);
  if (!args.ok()) return nullptr;
  args.in_bounds(0, rows * n, x_length, "x");
  args.in_bounds(0, rows * n, out_length, "out");
  if (!args.ok()) return nullptr;
  softmax(pool, x, rows, n, log, query_len, offset, out);
  return nullptr;
}

// layerNorm(pool, x, rows, d, weight|null, bias|null, eps, out, mean|null, rstd|null)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Args args(env, info, 10, "layerNorm");
  ThreadPool* pool = args.pool(0);
  int64_t x_length, w_length, b_length, out_length, mean_length, rstd_length;
  float* x = args.floats(1, &x_length);
  int64_t rows = args.integer(2), d = args.integer(3);
  float* weight = args.floats(4, &w_length, true);
  float* bias = args.floats(5, &b_length, true);
  double eps = args.number(6);
  float* out = args.floats(7, &out_length);
  float* mean = args.floats(8, &mean_length, true);
  float* rstd = args.floats(9, &rstd_length, true);
  if (!args.ok()) return nullptr;
  args.in_bounds(0, rows * d, x_length, "x");
  args.in_bounds(0, rows * d, out_length, "out");
  if (weight) args.in_bounds(0, d, w_length, "weight");
  if (bias) args.in_bounds(0, d, b_length, "bias");
  if (mean) args.in_bounds(0, rows, mean_length, "mean");
  if (rstd) args.in_bounds(0, rows, rstd_length, "rstd");
  if (!args.ok()) return nullptr;
  layer_norm(pool, x, rows, d, weight, bias, static_cast<float>(eps), out, mean, rstd);
  return nullptr;
}

// rmsNorm(pool, x, rows, d, weight|null, weightOffset, eps, out, rstd|null)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  Args args(env, info, 9, "rmsNorm");
  ThreadPool* pool = args.pool(0);
  int64_t x_length, w_length, out_length, rstd_length;
  float* x = args.floats(1, &x_length);
  int64_t rows = args.integer(2), d = args.integer(3);
  float* weight = args.floats(4, &w_length, true);
  double weight_offset = args.number(5), eps = args.number(6);
  float* out = args.floats(7, &out_length);
  float* rstd = args.floats(8, &rstd_length, true);
  if (!args.ok()) return nullptr;
  args.in_bounds(0, rows * d, x_length, "x");
  args.in_bounds(0, rows * d, out_length, "out");
  if (weight) args.in_bounds(0, d, w_length, "weight");
  if (rstd) args.in_bounds(0, rows, rstd_length, "rstd");
  if (!args.ok()) return nullptr;
  rms_norm(pool, x, rows, d, weight, static_cast<float>(weight_offset), static_cast<float>(eps), out, rstd);
  return nullptr;
}

// reduce(pool, op (0 sum, 1 max, 2 min), x, outer, n, inner, out)
napi_value Reduce(napi_env env, napi_callback_info info) {
  Args args(env, info, 7, "reduce");
  ThreadPool* pool = args.pool(0);
  int64_t op = args.integer(1);
  int64_t x_length, out_length;
  float* x = args.floats(2, &x_length);
  int64_t outer = args.integer(3), n = args.integer(4), inner = args.integer(5);
  float* out = args.floats(6, &out_length);
  if (!args.ok()) return nullptr;
  if (op < 0 || op >= static_cast<int64_t>(ReduceOp::count) || outer < 0 || n < 1 || inner < 0) {
    args.fail_range("reduce: bad op or layout (n must be at least 1)");
    return nullptr;
  }
  args.in_bounds(0, outer * n * inner, x_length, "x");
  args.in_bounds(0, outer * inner, out_length, "out");
  if (!args.ok()) return nullptr;
  reduce(pool, static_cast<ReduceOp>(op), x, outer, n, inner, out);
  return nullptr;
}

}  // namespace
}  // namespace dissect

NAPI_MODULE_INIT() {
  using namespace dissect;
  const napi_property_descriptor functions[] = {
      {"cpuSupported", nullptr, CpuSupported, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"createPool", nullptr, CreatePool, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"destroyPool", nullptr, DestroyPool, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"binaryScalar", nullptr, BinaryScalar, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"rmsNorm", nullptr, RmsNorm, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_enumerable, nullptr},
  };
  napi_define_properties(env, exports, sizeof(functions) / sizeof(functions[0]), functions);
  return exports;
}
