#!/usr/bin/env bash
# Debian packages Edgestore needs, for the two README commands. Sourced, not run.
# RUNTIME: what the app itself loads (Qt's xcb platform libraries, libvlc for playback, FFmpeg).
# TESTING: the real peers the suite talks to (curl, ffmpeg/ffprobe, VLC, GStreamer, Samba, 7-Zip) and Xvfb for
# screenshots.
RUNTIME_PACKAGES=(
  python3 python3-venv python3-pip ca-certificates
  libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1
  libxcb-image0 libxcb-render-util0 libxcb-xinerama0 libxcb-randr0 libxcb-shape0 libxcb-xkb1
  libfontconfig1 libdbus-1-3 fonts-dejavu-core
  libvlc5 vlc-plugin-base vlc-plugin-video-output ffmpeg
)
TESTING_PACKAGES=(
  curl vlc-bin samba smbclient 7zip xvfb xauth
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-libav
)

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

make_venv() {
  # $1: the pip extras to install, e.g. "" or "[test]"
  "${PYTHON:-python3}" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".$1"
}
