import Glibc
import LinkPlugin
import Macvlan

exit(pluginMain(MacvlanPlugin()))
