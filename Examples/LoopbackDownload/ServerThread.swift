import NetCore

#if canImport(Glibc)
    import Glibc
#endif

/// Runs `loop` on a new OS thread. Lives outside main.swift: closures formed in top-level code
/// belong to the main actor, and a C thread entry point must not.
func startThread(running loop: Loop) -> pthread_t {
    var thread = pthread_t()
    pthread_create(
        &thread, nil,
        { argument in
            Unmanaged<Loop>.fromOpaque(argument!).takeRetainedValue().run()  // passed retained below
            return nil
        }, Unmanaged.passRetained(loop).toOpaque())
    return thread
}
