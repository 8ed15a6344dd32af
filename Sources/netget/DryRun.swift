import HTTPClient
import NetCore

/// --dry-run (aria2's name; --spider as wget's): ask each URL's server about the file and print
/// its name, size, type and whether a download could resume, writing nothing. A HEAD first; when
/// HEAD is refused (405, 501, or another 4xx but 404 and 410, as some servers answer it), a GET
/// for one byte (`Range: bytes=0-0`), whose body is discarded. Redirects are followed, with the
/// credential rules of a download. Loop-thread only.
enum DryRun {
    /// What the server said about one URL.
    struct Probe {
        var name: String
        var size: UInt64?
        var type: String?
        var resumable: Bool
        var status: Int
        var finalURL: HTTPURL
    }

    /// Asks about `entry`. - Throws: the client's errors, or `DownloadError.httpStatus`.
    static func probe(_ entry: DownloadEntry, plan: Plan, client: Client) async throws -> Probe {
        func request(_ method: String) -> HTTPRequest {
            var request = HTTPRequest(url: entry.url, method: method, headers: plan.download.headers + entry.headers)
            request.credentialScope = CredentialScope(
                for: entry.url, extraNames: plan.download.credentialHeaderNames, trustsEveryOrigin: plan.download.locationTrusted)
            request.credential = plan.download.credential
            return request
        }
        var response = try await client.execute(request("HEAD"), engine: plan.download.engine)
        response.body.discard()
        let headRefused =
            response.status == 405 || response.status == 501
            || (400..<500).contains(response.status) && response.status != 404 && response.status != 410
        if headRefused {
            var ranged = request("GET")
            ranged.range = .bounded(first: 0, last: 0)
            response = try await client.execute(ranged, engine: plan.download.engine)
            response.body.discard()
        }
        guard (200..<300).contains(response.status) else {
            throw DownloadError.httpStatus(response.status, reason: response.head.reason)
        }
        let headers = response.headers
        var size = headers.first("Content-Length").flatMap { UInt64($0) }
        var resumable = headers.first("Accept-Ranges")?.lowercased() == "bytes"
        if response.status == 206 {
            resumable = true
            // "bytes 0-0/N": the whole length after the slash ("*" when unknown).
            size = headers.first("Content-Range").flatMap { $0.split(separator: "/").last }.flatMap { UInt64($0) }
        }
        let suggested = headers.first("Content-Disposition").flatMap(ContentDisposition.filename).flatMap(FileNaming.safe)
        let name = entry.output ?? suggested ?? FileNaming.name(for: response.url) ?? "index.html"
        return Probe(
            name: name, size: size, type: headers.first("Content-Type"), resumable: resumable, status: response.status,
            finalURL: response.url)
    }

    /// One line for standard output: name, size, type, resumable, final URL, tab-separated.
    static func line(_ probe: Probe) -> String {
        [
            probe.name, probe.size.map(String.init) ?? "unknown-size", probe.type ?? "unknown-type",
            probe.resumable ? "resumable" : "not-resumable", probe.finalURL.description,
        ].joined(separator: "\t")
    }

    /// One JSON object for --json.
    static func json(_ probe: Probe, url: String) -> String {
        let fields: [(String, String)] = [
            ("url", JSONSummary.quoted(url)), ("name", JSONSummary.quoted(probe.name)), ("size", probe.size.map(String.init) ?? "null"),
            ("type", probe.type.map(JSONSummary.quoted) ?? "null"), ("resumable", probe.resumable ? "true" : "false"),
            ("status", String(probe.status)), ("final-url", JSONSummary.quoted(probe.finalURL.description)),
        ]
        return "{" + fields.map { "\(JSONSummary.quoted($0.0)):\($0.1)" }.joined(separator: ",") + "}"
    }
}
