@testable import Macvlan
import TestSupport

/// A verb suite's world: the fake system (host with master, container, IPAM) and the plugin on it.
protocol OnFakeSystem {
    var system: FakeSystem { get }
}

extension OnFakeSystem {
    var plugin: MacvlanPlugin { MacvlanPlugin(system: system) }
}
