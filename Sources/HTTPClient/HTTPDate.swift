/// HTTP-date (RFC 9110 §5.6.7): the IMF-fixdate a server must send ("Sun, 06 Nov 1994 08:49:37
/// GMT") and the two obsolete forms a recipient must still accept, RFC 850 ("Sunday, 06-Nov-94
/// 08:49:37 GMT") and asctime ("Sun Nov  6 08:49:37 1994"). Times are seconds since
/// 1970-01-01T00:00:00Z.
///
/// Pure, standard library only (the fuzz target compiles this file alone). Any thread.
public enum HTTPDate {
    private static let months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
    private static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday

    /// The time `text` names, or nil when it is none of the three forms or names no real time
    /// (the 30th of February, hour 24).
    public static func parse(_ text: some StringProtocol) -> Int64? {
        let parts = String(text).split(separator: " ", omittingEmptySubsequences: true)
        switch parts.count {
        case 6:  // IMF-fixdate: day-name "," SP day SP month SP year SP time SP "GMT"
            guard parts[0].last == ",", parts[5] == "GMT", parts[1].count == 2, parts[3].count == 4 else { return nil }
            return make(year: parts[3], month: parts[2], day: parts[1], time: parts[4])
        case 4:  // RFC 850: day-name-l "," SP day "-" month "-" 2DIGIT SP time SP "GMT"
            guard parts[0].last == ",", parts[3] == "GMT" else { return nil }
            let date = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard date.count == 3, date[0].count == 2, date[2].count == 2, let yy = Int(date[2]) else { return nil }
            // Two digits: RFC 9110 says a year more than 50 years ahead is in the past century.
            return make(year: Substring(String(yy < 70 ? 2000 + yy : 1900 + yy)), month: date[1], day: date[0], time: parts[2])
        case 5:  // asctime: day-name SP month SP ( 2DIGIT / ( SP DIGIT ) ) SP time SP year
            guard parts[2].count <= 2, parts[4].count == 4 else { return nil }
            return make(year: parts[4], month: parts[1], day: parts[2], time: parts[3])
        default:
            return nil
        }
    }

    /// `seconds` as an IMF-fixdate (for If-Modified-Since); years 0-9999 (what a parse gives).
    public static func format(_ seconds: Int64) -> String {
        let days = seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400
        let secondOfDay = seconds - days * 86_400
        let (year, month, day) = civil(fromDays: days)
        func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let weekday = Self.days[Int(((days % 7) + 7) % 7)]
        let monthName = months[Int(month) - 1].prefix(1).uppercased() + months[Int(month) - 1].dropFirst()
        let fourDigitYear = String(repeating: "0", count: max(0, 4 - String(year).count)) + String(year)
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(weekday), \(two(day)) \(monthName) \(fourDigitYear) \(time) GMT"
    }

    private static func make(year: Substring, month: Substring, day: Substring, time: Substring) -> Int64? {
        guard year.allSatisfy(\.isASCIIDigit), day.allSatisfy(\.isASCIIDigit), let year = Int64(year), let day = Int64(day),
            let monthIndex = months.firstIndex(of: month.lowercased())
        else { return nil }
        let clock = time.split(separator: ":", omittingEmptySubsequences: false)
        guard clock.count == 3, clock.allSatisfy({ $0.count == 2 && $0.allSatisfy(\.isASCIIDigit) }),
            let hour = Int64(clock[0]), let minute = Int64(clock[1]), let second = Int64(clock[2]),
            hour < 24, minute < 60, second <= 60
        else { return nil }
        let month = Int64(monthIndex + 1)
        guard day >= 1, day <= daysIn(month: month, year: year) else { return nil }
        return days(fromCivil: year, month, day) * 86_400 + hour * 3600 + minute * 60 + second
    }

    private static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
    private static func days(fromCivil year: Int64, _ month: Int64, _ day: Int64) -> Int64 {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days(fromCivil:)`.
    private static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthPrime = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthPrime + 2) / 5 + 1
        let month = monthPrime < 10 ? monthPrime + 3 : monthPrime - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
