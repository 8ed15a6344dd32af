// libFuzzer entry point for the Content-Disposition parser: any bytes (read as UTF-8, invalid
// sequences replaced) parse or give nil without a crash; a parsed field has no repeated
// parameter, written out again it parses to the same field, and its file name through
// DownloadFileName keeps every rule (FileNameInvariants.swift). Built by scripts/fuzz.sh
// content-disposition from ContentDisposition.swift and DownloadFileName.swift alone.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let header = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    let name = ContentDisposition.filename(header)
    guard let field = ContentDisposition.parse(header) else {
        require(name == nil, "a name from an invalid field: \(header.debugDescription)")
        return 0
    }
    require(name == field.suggestedFilename, "filename(_:) and parse(_:) disagree on \(header.debugDescription)")
    require(!field.type.isEmpty && field.type == field.type.lowercased())
    var seen = Set<String>()
    for parameter in field.parameters {
        require(parameter.name == parameter.name.lowercased() && !parameter.name.isEmpty)
        require(seen.insert(parameter.name).inserted, "\(parameter.name) twice in \(header.debugDescription)")
    }
    let written = serialized(field)
    require(
        ContentDisposition.parse(written) == field,
        "\(header.debugDescription) -> \(written.debugDescription) parses differently")
    if let name {
        require(!name.isEmpty)
        checkCleanName(DownloadFileName.safe(name), maxBytes: DownloadFileName.maxBytes, from: name)
    }
    return 0
}

/// The field in canonical form: quoted values quoted again with `"` and `\` escaped.
private func serialized(_ field: ContentDisposition) -> String {
    var text = field.type
    for parameter in field.parameters {
        text += "; " + parameter.name + "="
        if parameter.isQuoted {
            var quoted = String.UnicodeScalarView()
            for scalar in parameter.value.unicodeScalars {
                if scalar == "\"" || scalar == "\\" { quoted.append("\\") }
                quoted.append(scalar)
            }
            text += "\"" + String(quoted) + "\""
        } else {
            text += parameter.value
        }
    }
    return text
}
