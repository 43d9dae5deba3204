# Bar chart of make bench's compared figures (called by scripts/bench.py):
#   gnuplot -c scripts/bench-chart.gp DATA OUT.png [SUBTITLE]
# DATA: one row per figure, tab-separated: label, Mica, seL4,
# Linux; "-" where a peer has no figure.  Values are guest instructions
# (QEMU -icount shift=0).  The y axis is logarithmic when the largest value
# is more than 20 times the smallest.

data = ARG1
out = ARG2
subtitle = (ARGC >= 3) ? ARG3 : ""

set datafile separator "\t"
set datafile missing "-"

stats data using 2 nooutput
lo = STATS_min; hi = STATS_max; rows = STATS_records
stats data using 3 nooutput
if (exists("STATS_records") && STATS_records > 0) { lo = (STATS_min < lo) ? STATS_min : lo; hi = (STATS_max > hi) ? STATS_max : hi }
stats data using 4 nooutput
if (exists("STATS_records") && STATS_records > 0) { lo = (STATS_min < lo) ? STATS_min : lo; hi = (STATS_max > hi) ? STATS_max : hi }

set terminal pngcairo size (rows > 8 ? 110 * rows : 1000), 720 font "DejaVu Sans,10" noenhanced
set output out

set title "Mica beside seL4 and Linux in the same QEMU: guest instructions per operation (median, lower is better)" . (subtitle ne "" ? "\n" . subtitle : "")
set ylabel "guest instructions (QEMU -icount shift=0)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.95
set key top left Left reverse
set grid ytics
set xtics nomirror scale 0 font ",9" rotate by 30 right
set bmargin 11
set lmargin 24
set rmargin 3
set xrange [-0.6:rows - 0.4]

uselog = (lo > 0 && hi / lo > 20)
if (uselog) {
    set logscale y
    set yrange [lo / 2 : hi * 3]
    set ylabel "guest instructions (QEMU -icount shift=0), log scale"
} else {
    set yrange [0 : hi * 1.15]
}

# Three bars per cluster: offsets -0.25, 0, +0.25 (bar width 1/(3+gap)).
plot data using 2:xtic(1) title "Mica" lc rgb "#1f77b4", \
     "" using 3 title "seL4" lc rgb "#2ca02c", \
     "" using 4 title "Linux (comparator in each label)" lc rgb "#d62728", \
     "" using ($0 - 0.25):2:(sprintf("%d", $2)) with labels offset 0,0.7 font ",8" notitle, \
     "" using ($0):3:(sprintf("%d", $3)) with labels offset 0,0.7 font ",8" notitle, \
     "" using ($0 + 0.25):4:(sprintf("%d", $4)) with labels offset 0,0.7 font ",8" notitle
