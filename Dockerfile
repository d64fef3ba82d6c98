# strata as a scratch image: the single binary, the dynamic loader and the four libraries it
# links, an empty /data and /tmp. No shell, no package manager.
#
#   docker build -t strata .
#   docker run --rm -v "$PWD/data:/data" strata upgrade                 # embedded chains, SQLite
#   docker run --rm -e DATABASE_URL=postgresql://... strata upgrade --wait --wait-timeout 60
#
# The root file system is assembled by scripts/image_rootfs.sh, the same script
# tests/image_test.ts runs and chroots into, so what ships is what is tested.

# ---- build: Bun from npm, the binary, the root file system --------------------------------
FROM node:20-bookworm-slim AS build
ARG BUN_VERSION=1.4.5
RUN npm install --global --no-audit --no-fund "bun@${BUN_VERSION}" && bun --version
WORKDIR /src
COPY package.json bun.lock ./
RUN bun install --frozen-lockfile
COPY . .
# linux-x64 or linux-arm64, whichever this stage runs on (buildx --platform builds each).
RUN arch="$(uname -m | sed -e 's/x86_64/x64/' -e 's/aarch64/arm64/')" \
 && bun scripts/compile.ts --target "linux-${arch}" \
 && scripts/image_rootfs.sh "dist/strata-linux-${arch}" /rootfs \
 && /rootfs/strata --version

# ---- the image ------------------------------------------------------------------------------
FROM scratch
COPY --from=build /rootfs/ /
# COPY does not promise to keep the build stage's owners: give /data to the runtime user again.
COPY --from=build --chown=65532:65532 /rootfs/data /data
USER 65532:65532
WORKDIR /data
ENTRYPOINT ["/strata"]
CMD ["upgrade", "head"]
