# Finds a JDK 25+ and exports JAVA_HOME; sourced by ./mvnw and ./perceiver.
# The default `java` on many machines is older (17 here), so look in the usual install folders too.
PERCEIVER_MIN_JDK=25

perceiver_jdk_major() { # $1 = JDK home; prints the feature version or nothing
  local v=""
  if [ -f "$1/release" ]; then
    v=$(sed -n 's/^JAVA_VERSION="\([0-9][0-9]*\).*/\1/p' "$1/release" | head -n 1)
  fi
  if [ -z "$v" ] && [ -x "$1/bin/java" ]; then
    v=$("$1/bin/java" -version 2>&1 | sed -n 's/.*version "\([0-9][0-9]*\).*/\1/p' | head -n 1)
  fi
  [ "$v" = "1" ] && v=8
  printf '%s' "$v"
}

perceiver_find_jdk() {
  local best="" best_v=0 seen="" d v
  for d in "${JAVA_HOME:-}" /usr/lib/jvm/* /usr/java/* /opt/java/* /opt/jdk* "$HOME"/.sdkman/candidates/java/* \
           "$HOME"/.jdks/* /Library/Java/JavaVirtualMachines/*/Contents/Home; do
    [ -n "$d" ] && [ -x "$d/bin/java" ] && [ -x "$d/bin/javac" ] || continue
    v=$(perceiver_jdk_major "$d")
    [ -n "$v" ] || continue
    seen="$seen $(basename "$d")=$v"
    # JAVA_HOME wins when it is new enough; otherwise take the newest JDK found.
    if [ "$d" = "${JAVA_HOME:-}" ] && [ "$v" -ge "$PERCEIVER_MIN_JDK" ]; then best=$d; break; fi
    if [ "$v" -ge "$PERCEIVER_MIN_JDK" ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
  done
  if [ -z "$best" ] && command -v javac >/dev/null 2>&1; then
    d=$(dirname "$(dirname "$(readlink -f "$(command -v javac)")")")
    v=$(perceiver_jdk_major "$d")
    if [ -n "$v" ] && [ "$v" -ge "$PERCEIVER_MIN_JDK" ]; then best=$d; fi
  fi
  if [ -z "$best" ]; then
    echo "error: Perceiver for Java needs a JDK $PERCEIVER_MIN_JDK or newer (Vector API and FFM), and none was found." >&2
    echo "       Looked at JAVA_HOME, /usr/lib/jvm, /usr/java, /opt/java, ~/.sdkman and ~/.jdks; found:${seen:- nothing}." >&2
    echo "       Install one (e.g. Temurin 25: apt-get install temurin-25-jdk) or point JAVA_HOME at it." >&2
    return 1
  fi
  export JAVA_HOME="$best"
}
