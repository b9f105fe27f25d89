#pragma once

namespace dissect {
/** True when the CPU (and OS) support AVX2 and FMA, which every kernel translation unit assumes. */
bool cpu_has_avx2_fma();
}  // namespace dissect
