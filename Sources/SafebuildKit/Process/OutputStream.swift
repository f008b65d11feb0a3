package enum OutputStream: Sendable, Equatable {
    case stdout, stderr
}
