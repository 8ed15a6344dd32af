// The sans-I/O HTTP/1.1 parser and the two client engines arrive with issue 4.
// This file exists because a Swift target needs at least one source.
import NetCore
import Workers
