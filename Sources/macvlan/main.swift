import CNI
import Glibc
import Macvlan

// The executable: dispatch one CNI invocation to the macvlan plugin and exit with its status.
exit(Dispatcher.run(MacvlanPlugin(pauseAt: getenv("MACVLAN_TEST_PAUSE_AT").map { String(cString: $0) })))
