# The podtap-agent image: one static binary in an otherwise empty image.
#
#   docker build -t podtap-agent .          from source: stages `build` + `image`
#   buildah build --target local -f Dockerfile DIR
#                                           from a binary already built with
#                                           agent/build-static.sh and copied to
#                                           DIR/podtap-agent (what .ci/run does)
#
# Both final stages start from `base`, so labels, user, entrypoint and command
# are written once. Builders skip stages the chosen target does not need
# (BuildKit, and buildah's default --skip-unused-stages), so `--target local`
# never pulls the Rust image and the default build never needs DIR.
#
# No /etc/nsswitch.conf: without one, static glibc looks host names up in
# /etc/hosts first, then DNS ("files dns"), and Kubernetes mounts /etc/hosts
# and /etc/resolv.conf into every container.

FROM rust:1.95.0-bookworm AS build
WORKDIR /src
COPY . .
RUN AGENT_OUT=/out/podtap-agent agent/build-static.sh --locked

FROM scratch AS base
LABEL org.opencontainers.image.title="podtap-agent" \
      org.opencontainers.image.description="podtap's in-pod agent: captures the pod's traffic and probes latency, streamed as pcapng" \
      org.opencontainers.image.source="https://github.com/podtap/podtap" \
      org.opencontainers.image.licenses="Apache-2.0"
# The agent opens AF_PACKET sockets, so it runs as uid 0 with NET_RAW as its
# only capability; podtap sets that securityContext (runAsUser: 0, drop ALL,
# add NET_RAW, no privilege escalation) when it adds the ephemeral container.
# hadolint ignore=DL3002
USER 0
ENTRYPOINT ["/podtap-agent"]
CMD ["serve"]

FROM base AS local
COPY podtap-agent /podtap-agent

FROM base AS image
COPY --from=build /out/podtap-agent /podtap-agent
