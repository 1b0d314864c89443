#!/bin/sh
# Crash safety of recordings: start a recording call, SIGKILL it after
# $SECONDS_BEFORE_KILL seconds of media, and report what ffprobe can read.
# Usage: record_crash_check.sh PATH/TO/record_crash_helper [480p|720p] [seconds]
# Exit 0 when the file is playable (it decodes with no error other than the
# truncated tail the kill leaves) and holds all but at most ~1.5 s of video.
set -u
helper=$1
preset=${2:-480p}
secs=${3:-6}
dir=$(mktemp -d /tmp/callagent-crash-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$dir"' EXIT
file=$dir/crash.mkv
fifo=$dir/out
mkfifo "$fifo"
"$helper" "$file" "$preset" >"$fifo" 2>"$dir/stderr" &
pid=$!
exec 3<"$fifo"
if ! read -r line <&3 || [ "$line" != RECORDING ]; then
  echo "helper did not start recording"; cat "$dir/stderr"; kill -9 $pid 2>/dev/null; exit 1
fi
sleep "$secs"
kill -9 $pid
wait $pid 2>/dev/null
size=$(stat -c %s "$file")
frames=$(ffprobe -v error -select_streams v:0 -count_frames -show_entries stream=nb_read_frames -of csv=p=0 "$file")
audio=$(ffprobe -v error -select_streams a:0 -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$file")
last=$(ffprobe -v error -select_streams v:0 -show_entries packet=pts_time -of csv=p=0 "$file" | tail -1)
dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$file")
echo "killed after ${secs}s of media ($preset): ${size} bytes, video frames ${frames:-0}, audio packets ${audio:-0}, last video pts ${last:-none} s, container duration ${dur:-none}"
# Playable: decodes without error through to the end. The kill cuts the
# last cluster short; ffmpeg's complaints about that are the only ones allowed.
# In the file's own time base (-enc_time_base -1): by default ffmpeg re-times
# frames to 1/frame-rate, where two frames released closer than 33 ms (after
# a burst of repairs; distinct in the file) collide as "non monotonically
# increasing dts".
ffmpeg -nostdin -v error -i "$file" -enc_time_base -1 -f null - >"$dir/decode" 2>&1
grep -v 'Truncat\|EOF\|End of file' "$dir/decode" >"$dir/decode-errors" || true
errors=$(wc -l <"$dir/decode-errors")
echo "ffmpeg decode errors (excluding the truncated tail): $errors"
fail=0
if [ "$errors" -ne 0 ]; then
  echo "FAIL: the recording does not decode cleanly:"; head -20 "$dir/decode-errors"; fail=1
fi
[ -n "$frames" ] || { echo "FAIL: ffprobe read no video stream"; fail=1; }
[ -n "$audio" ] && [ "$audio" -gt 0 ] || { echo "FAIL: ffprobe read no audio packets"; fail=1; }
min=$(( (secs * 30) - 45 ))
[ "${frames:-0}" -ge "$min" ] || { echo "FAIL: expected >= $min frames"; fail=1; }
exit $fail
