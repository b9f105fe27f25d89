# Built by scripts/build-native.mjs with `node-gyp rebuild --directory native`, so node-gyp's build
# folder is native/build/ and the addon lands in native/build/Release/dissect_native.node.
{
  "targets": [
    {
      # The kernels: the only code compiled with AVX2/FMA. The addon calls into it only after a
      # runtime CPU check, so loading the addon stays safe on older x86-64 CPUs.
      "target_name": "dissect_kernels",
      "type": "static_library",
      "sources": ["src/gemm.cc", "src/gemv.cc", "src/elementwise.cc", "src/rows.cc"],
      "cflags": ["-fPIC", "-O3", "-mavx2", "-mfma", "-fno-math-errno"],
      "cflags_cc": ["-std=c++17"],
      "cflags!": ["-O2"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["-O3", "-mavx2", "-mfma", "-fno-math-errno"],
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17"
      }
    },
    {
      "target_name": "dissect_native",
      "sources": ["src/addon.cc", "src/thread_pool.cc", "src/cpu_features.cc"],
      "dependencies": ["dissect_kernels"],
      "cflags_cc": ["-std=c++17"],
      "xcode_settings": { "CLANG_CXX_LANGUAGE_STANDARD": "c++17" }
    }
  ]
}
