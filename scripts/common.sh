# Shared by the set-up scripts: the JDK we build with, and apt installs of what is missing.
export JAVA_HOME=${JAVA_HOME_25:-/usr/lib/jvm/temurin-25-jdk-amd64}
if [ ! -x "$JAVA_HOME/bin/java" ]; then
  echo "jcontainerd needs a Java 25 JDK at $JAVA_HOME (set JAVA_HOME_25 to another location)" >&2
  exit 1
fi
export PATH="$JAVA_HOME/bin:$PATH"

# apt_need PACKAGE:COMMAND... installs each package whose command is missing
apt_need() {
  missing=""
  for pair in "$@"; do
    pkg=${pair%%:*}; cmd=${pair#*:}
    command -v "$cmd" >/dev/null 2>&1 || [ -x "$cmd" ] || missing="$missing $pkg"
  done
  if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q $missing >/dev/null
  fi
}
