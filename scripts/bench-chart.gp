# Bar chart of make bench's figures (called by scripts/bench.py):
#   gnuplot -c scripts/bench-chart.gp DATA OUT.png [SUBTITLE]
# DATA: one row per figure, tab-separated: label, Mica, seL4, Linux; "-"
# where a peer has no figure.  Values are guest instructions (QEMU -icount
# shift=0).  A peer column without a single figure is left out of the chart
# (and its key), so Mica's figures alone still make a chart.  The y axis is
# logarithmic when the largest value is more than 20 times the smallest.
# Any error (no data file, no row, a bad value) ends gnuplot with a non-zero
# status, which make bench reports as a failure.

data = ARG1
out = ARG2
subtitle = (ARGC >= 3) ? ARG3 : ""

set datafile separator "\t"
set datafile missing "-"

# Range and row count of one column; has_N says whether it has any figure.
# STATS_* are undefined first: a stats run over a column without a valid
# point only warns and would leave the previous column's values behind.
undefine STATS_*
stats data using 2 nooutput
if (!exists("STATS_records") || STATS_records == 0) {
    print "bench-chart.gp: no Mica figure in " . data
    exit status 1
}
lo = STATS_min; hi = STATS_max; rows = STATS_records
has3 = 0; has4 = 0
undefine STATS_*
stats data using 3 nooutput
if (exists("STATS_records") && STATS_records > 0) { has3 = 1; lo = (STATS_min < lo) ? STATS_min : lo; hi = (STATS_max > hi) ? STATS_max : hi }
undefine STATS_*
stats data using 4 nooutput
if (exists("STATS_records") && STATS_records > 0) { has4 = 1; lo = (STATS_min < lo) ? STATS_min : lo; hi = (STATS_max > hi) ? STATS_max : hi }

set terminal pngcairo size (rows > 8 ? 110 * rows : 1000), 720 font "DejaVu Sans,10" noenhanced
set output out

peers = (has3 && has4) ? "beside seL4 and Linux" : has3 ? "beside seL4" : has4 ? "beside Linux" : "(no peer figures)"
set title "Mica " . peers . " in the same QEMU: guest instructions per operation (median, lower is better)" . (subtitle ne "" ? "\n" . subtitle : "")
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

# n bars per cluster, gap 1: bar k (0-based) is centred at
# (k - (n - 1) / 2) / (n + 1) from the cluster's centre.
n = 1 + has3 + has4
off(k) = (k - (n - 1) / 2.0) / (n + 1)
k3 = 1
k4 = 1 + has3
cmd = "plot data using 2:xtic(1) title 'Mica' lc rgb '#1f77b4'"
if (has3) { cmd = cmd . ", '' using 3 title 'seL4' lc rgb '#2ca02c'" }
if (has4) { cmd = cmd . ", '' using 4 title 'Linux (comparator in each label)' lc rgb '#d62728'" }
cmd = cmd . sprintf(", '' using ($0 + %g):2:(sprintf('%%d', $2)) with labels offset 0,0.7 font ',8' notitle", off(0))
if (has3) { cmd = cmd . sprintf(", '' using ($0 + %g):3:(sprintf('%%d', $3)) with labels offset 0,0.7 font ',8' notitle", off(k3)) }
if (has4) { cmd = cmd . sprintf(", '' using ($0 + %g):4:(sprintf('%%d', $4)) with labels offset 0,0.7 font ',8' notitle", off(k4)) }
eval cmd
