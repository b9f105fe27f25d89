// Compiled without -mavx2, so it runs on any x86-64 and can say no.
#include "cpu_features.h"

namespace dissect {

bool cpu_has_avx2_fma() {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  // libgcc's cpu model also checks XGETBV, so an OS that does not save YMM state reports no AVX2.
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

}  // namespace dissect
