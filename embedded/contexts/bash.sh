# isol8 bash context driver: one long-lived shell fed cells by the supervisor, started as
# `bash --norc --noprofile -c <this text>` (see embedded/supervisor.c, "contexts"). Each cell is
# eval'ed in this shell, so the working directory, environment, functions and variables persist.
# Frames on fd 3 (in: 'c' cell) and fd 4 (out: 'y' ready, 'e' error, 'd' done): [u8 type][u32
# big-endian length][payload]. stdin is /dev/null: a read gets end-of-file at once.
# An interrupt (SIGINT to the process group) stops the foreground command and returns from the
# cell; a loop inside a function of the user's may go on, and is then killed after the grace.
# `exit` ends the shell: the context is lost ("exited").

__isol8_frame() { # type, payload
  local LC_ALL=C
  local n=${#2}
  printf "%s\\$(printf %03o $(( (n >> 24) & 255 )))\\$(printf %03o $(( (n >> 16) & 255 )))\\$(printf %03o $(( (n >> 8) & 255 )))\\$(printf %03o $(( n & 255 )))%s" "$1" "$2" >&4
}

__isol8_json() { # a JSON string of $1
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  printf '"%s"' "$(printf '%s' "$s" | LC_ALL=C tr -d '\000-\010\013\014\016-\037')"
}

__isol8_read() { # exact byte count from fd 3 into stdout
  dd bs="$1" count=1 iflag=fullblock status=none <&3
}

__isol8_run() {
  eval "$1"
}

__isol8_main() {
  local head type len status
  trap 'return 130' INT
  __isol8_frame y ""
  while :; do
    # between cells an interrupt is ignored (a late one must not hit the next cell)
    trap '' INT
    head=$(__isol8_read 5 | od -An -tu1) || return 0
    set -- $head
    [ $# -eq 5 ] || return 0
    type=$1
    len=$(( ($2 << 24) | ($3 << 16) | ($4 << 8) | $5 ))
    if [ "$len" -gt 0 ]; then
      # a trailing newline keeps command substitution from eating the code's last newlines
      __isol8_cell=$(__isol8_read "$len"; printf x)
      __isol8_cell=${__isol8_cell%x}
    else
      __isol8_cell=""
    fi
    [ "$type" -eq 99 ] || continue # 'c'
    trap 'return 130' INT
    __isol8_run "$__isol8_cell"
    status=$?
    trap '' INT
    if [ "$status" -ne 0 ]; then
      __isol8_frame e "{\"name\":\"ExitStatus\",\"value\":\"$status\",\"traceback\":$(__isol8_json "the cell's last command exited with status $status")}"
    fi
    __isol8_frame d ""
  done
}

exec 4>&4 3<&3
__isol8_main
