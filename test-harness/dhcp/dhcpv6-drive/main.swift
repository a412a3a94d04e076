// Test-only: runs the DHCPv6 Client on transcript lines (see DHCPv6/Transcript.swift) read from stdin, and
// writes each input line followed by its output lines and a "." line to stdout. test-harness/dhcp/dhcpv6-real
// holds the UDP socket and the clock, so our encoder's bytes go to a real dnsmasq and its answers come back.
//   dhcpv6-drive IDENTITY SEED
import DHCPv6
import Glibc

let arguments = CommandLine.arguments
/// Unbuffered line to fd 1: the harness waits for each "." before it reads the socket again.
func emit(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
        if n <= 0 { exit(1) }
        written += n
    }
}

guard arguments.count == 3, let seed = UInt64(arguments[2]) else {
    emit("usage: dhcpv6-drive IDENTITY SEED")
    exit(2)
}
var parameters = ClientParameters()
parameters.solicitMaxDelay = 0  // one client on a test link: no need to spread the first SOLICIT
var client = Client(identity: ClientIdentity(identity: arguments[1]), parameters: parameters,
                    randomness: SeededRandomness(seed: seed))
emit("identity \(ClientIdentity(identity: arguments[1]).uuidText)")
while let line = readLine() {
    guard let input = TranscriptLine(line), let output = TranscriptLine.run(input, on: &client) else {
        emit("error unreadable input: \(line)")
        continue
    }
    emit(input.text)
    for out in output { emit(out.text) }
    emit(".")
}
