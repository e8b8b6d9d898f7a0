{
  # Build switches (node-gyp passes unknown --flags as gyp variables):
  #  --fv_libkqueue=DIR  also build the kqueue backend on Linux against libkqueue
  #                      installed in DIR (scripts/build-kqueue.sh); tests only
  "variables": { "fv_libkqueue%": "" },
  "targets": [
    {
      "target_name": "fastvisor",
      "sources": [
        "native/addon.cc",
        "native/spawn.cc",
        "native/spawner.cc",
        "native/user.cc",
        "native/io_loop.cc",
        "native/logfile.cc",
        "native/compress.cc",
        "native/syslog.cc",
        "native/line_format.cc",
        "native/notify.cc",
        "native/cgroup.cc",
        "native/fcgi_socket.cc",
        "native/procstat.cc",
        "native/backend.cc",
        "native/backend_poll.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "dependencies": ["<!(node -p \"require('node-addon-api').targets\"):node_addon_api"],
      "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra", "-fvisibility=hidden"],
      "conditions": [
        ["OS=='linux'", { "sources": ["native/backend_epoll.cc"] }],
        ["OS=='linux' and fv_libkqueue!=''", {
          "sources": ["native/backend_kqueue.cc"],
          "defines": ["FV_LIBKQUEUE=1"],
          "include_dirs": ["<(fv_libkqueue)/include/kqueue"],
          "libraries": ["<(fv_libkqueue)/lib/libkqueue.a", "-lpthread"],
          "ldflags": ["-Wl,--exclude-libs,libkqueue.a"]
        }],
        ["OS=='mac' or OS=='freebsd' or OS=='openbsd' or OS=='netbsd'", { "sources": ["native/backend_kqueue.cc"] }],
        ["OS=='mac'", {
          "xcode_settings": {
            "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
            "GCC_OPTIMIZATION_LEVEL": "2",
            "MACOSX_DEPLOYMENT_TARGET": "10.15"
          }
        }]
      ]
    }
  ]
}
