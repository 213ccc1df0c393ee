//! Everything kube-rs: contexts, namespaces and pods, preflight, the agent
//! as an ephemeral container, and the exec stream (being built).
