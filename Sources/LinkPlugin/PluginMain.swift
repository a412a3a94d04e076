import CNI

/// The whole of a link plugin's executable: one CNI invocation, its exit status.
public func pluginMain(_ plugin: some CNIPlugin) -> Int32 {
    #if FAULT_INJECTION
    if FaultInjection.listStagesRequested {
        StandardIO.write(AddStage.allCases.map { $0.rawValue + "\n" }.joined(), fd: 1)
        return 0
    }
    #endif
    return Dispatcher.main(plugin)
}
