// The worker pool (`WorkerPool`, `callAsync`) and the blocking resolver arrive with issue 3.
// This file exists because a Swift target needs at least one source.
import NetCore
