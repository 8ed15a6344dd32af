import CLinuxShim

/// Who the calling OS thread is, as the kernel and the tools (`top -H`, gdb, /proc) see it.
/// Any thread; each call is one cheap system call.
public enum ThreadIdentity {
    /// The calling thread's kernel id (`gettid`): the number in /proc/self/task.
    public static var kernelID: Int32 { cln_gettid() }

    /// Names the calling thread (`pthread_setname_np`), cut to the kernel's 15 bytes. The name
    /// is only a label (/proc/self/task/TID/comm), so a refusal changes nothing else.
    /// - Returns: 0, or the errno the kernel refused it with.
    @discardableResult
    public static func setName(_ name: String) -> Int32 {
        cln_set_current_thread_name(name)
    }
}
