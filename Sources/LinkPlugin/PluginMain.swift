import CNI

/// The whole of a link plugin's executable: one CNI invocation, its exit status. `stages`: the ADD checkpoints
/// this plugin can pass, which the fault build lists for the harness (macvtap has no host access). An autoclosure:
/// the shipped binary never builds the list (its first array of stages cost 36 k instructions per call).
public func pluginMain(_ plugin: some CNIPlugin, stages: @autoclosure () -> [AddStage] = AddStage.allCases) -> Int32 {
    #if FAULT_INJECTION
    if FaultInjection.listStagesRequested {
        StandardIO.write(stages().map { $0.rawValue + "\n" }.joined(), fd: 1)
        return 0
    }
    #endif
    return Dispatcher.main(plugin)
}
