import Glibc
import LinkPlugin
import Macvtap

exit(pluginMain(MacvtapPlugin(), stages: AddStage.shared))
