import NetCore

extension Downloader {
    /// `run` for a caller that is not a tasklet (a plain `Task`, an actor, ...): the whole download
    /// runs in one tasklet of the client's home loop (the loop `HTTPClientConfiguration.loop`
    /// names, or the client's "http-client" thread), exactly as it would in place; the caller's
    /// task suspends until that tasklet has ended (no cooperative thread blocks). Cancelling the
    /// caller's task cancels the tasklet, and this still waits for it to end, so when it returns
    /// or throws, nothing touches the sink any more and `resumeState` is settled.
    func runFromOutside(
        url: HTTPURL, sink: DownloadSink, resume: ResumeState?,
        events: @escaping (DownloadEvent) -> Void
    ) async throws -> DownloadResult {
        let loop = try client.homeLoop.loop()
        client.hopCounters.hops.add(1, ordering: .relaxed)
        let handed = HandedToLoop(sink: sink, events: events)
        // trySpawn: a tasklet the limit refused would leave the wait below with nothing to await.
        let carrier = try loop.trySpawn(name: "download-hop") { [self] in
            try await run(url: url, sink: handed.sink, resume: resume, events: handed.events)
        }
        return try await withTaskCancellationHandler {
            try await carrier.value  // waits for the tasklet's end, however it ends
        } onCancel: {
            carrier.cancel()
        }
    }
}

/// The caller's sink and event handler, lent to the loop's thread for one `run`: the caller's
/// task is suspended in `runFromOutside` until the tasklet using them has ended, so the two are
/// never used on two threads at once (the documented rule: a caller does not touch them from
/// elsewhere while `run` is in progress), and the tasklet's end happens-before the caller resumes.
private struct HandedToLoop: @unchecked Sendable {  // used by one thread at a time, see above
    let sink: DownloadSink
    let events: (DownloadEvent) -> Void
}
