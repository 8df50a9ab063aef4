package ai.chunkwise.train.bench.experiment;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Writes an experiment's results: results.json (every record), report.md and report.html (the tables) and the
 * PNG plots (JFreeChart). Everything is written to a fresh sibling directory first and renamed over {@code out}
 * at the end, so an earlier result is replaced only by a whole new one.
 */
final class ExperimentReport {
    private final ObjectNode results;
    private final boolean retrieval;
    private final Map<String, JFreeChart> charts = new LinkedHashMap<>();
    private final List<String> sections = new ArrayList<>();   // markdown
    private final List<String> htmlSections = new ArrayList<>();

    ExperimentReport(ObjectNode results, boolean retrieval) {
        this.results = results;
        this.retrieval = retrieval;
    }

    void write(Path out) throws IOException {
        Path dir = out.toAbsolutePath().normalize();
        Path tmp = dir.resolveSibling(dir.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        deleteTree(tmp);
        Files.createDirectories(tmp);
        try {
            writeInto(tmp, dir);
        } catch (IOException | RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    private void writeInto(Path tmp, Path dir) throws IOException {
        nanToNull(results);
        if (retrieval) {
            retrievalReport();
        } else {
            timeToQualityReport();
        }
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        Files.writeString(tmp.resolve("results.json"), json.writeValueAsString(results) + "\n", StandardCharsets.UTF_8);
        StringBuilder md = new StringBuilder();
        StringBuilder html = new StringBuilder("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>experiment "
                + results.get("experiment").asText() + "</title><style>body{font-family:sans-serif;max-width:1100px}"
                + "table{border-collapse:collapse}td,th{border:1px solid #999;padding:2px 6px;text-align:right}"
                + "</style></head><body>\n<h1>experiment " + results.get("experiment").asText() + "</h1>\n");
        String header = String.format(Locale.ROOT, "Started %s, %.0f s, load average %.2f at the start and %.2f at the "
                        + "end, %d processors, OMP_NUM_THREADS=%s%s.", results.get("started").asText(),
                results.get("wall_seconds").asDouble(), results.path("load_average_start").asDouble(),
                results.path("load_average_end").asDouble(), results.get("available_processors").asInt(),
                results.path("omp_num_threads").asText(), results.get("quick").asBoolean() ? ", --quick" : "");
        md.append("# experiment ").append(results.get("experiment").asText()).append("\n\n").append(header).append("\n\n");
        html.append("<p>").append(header).append("</p>\n");
        for (int i = 0; i < sections.size(); i++) {
            md.append(sections.get(i)).append('\n');
            html.append(htmlSections.get(i)).append('\n');
        }
        for (Map.Entry<String, JFreeChart> c : charts.entrySet()) {
            ChartUtils.saveChartAsPNG(tmp.resolve(c.getKey()).toFile(), c.getValue(), 800, 500);
            md.append("![").append(c.getKey()).append("](").append(c.getKey()).append(")\n\n");
            html.append("<p><img src=\"").append(c.getKey()).append("\" alt=\"").append(c.getKey()).append("\"></p>\n");
        }
        html.append("</body></html>\n");
        Files.writeString(tmp.resolve("report.md"), md.toString(), StandardCharsets.UTF_8);
        Files.writeString(tmp.resolve("report.html"), html.toString(), StandardCharsets.UTF_8);
        Path old = dir.resolveSibling(dir.getFileName() + ".old-" + ProcessHandle.current().pid());
        if (Files.exists(dir)) {
            Files.move(dir, old, StandardCopyOption.ATOMIC_MOVE);
        }
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        deleteTree(old);
    }

    private void retrievalReport() {
        ArrayNode records = (ArrayNode) results.get("records");
        // label -> distance -> records over seeds
        Map<String, TreeMap<Integer, List<JsonNode>>> grouped = new LinkedHashMap<>();
        records.forEach(r -> grouped.computeIfAbsent(r.get("label").asText(), x -> new TreeMap<>())
                .computeIfAbsent(r.get("distance").asInt(), x -> new ArrayList<>()).add(r));
        int digits = records.isEmpty() ? 0 : records.get(0).get("accuracy_per_position").size();
        List<String> head = new ArrayList<>(List.of("method", "distance (chunks)"));
        for (int i = 0; i < digits; i++) {
            head.add("accuracy digit " + (i + 1));
        }
        head.add("accuracy (mean)");
        head.add("answer loss (nats)");
        head.add("seeds");
        List<List<String>> rows = new ArrayList<>();
        XYSeriesCollection accuracy = new XYSeriesCollection();
        XYSeriesCollection firstDigit = new XYSeriesCollection();
        XYSeriesCollection loss = new XYSeriesCollection();
        for (Map.Entry<String, TreeMap<Integer, List<JsonNode>>> m : grouped.entrySet()) {
            XYSeries acc = new XYSeries(m.getKey());
            XYSeries first = new XYSeries(m.getKey());
            XYSeries l = new XYSeries(m.getKey());
            for (Map.Entry<Integer, List<JsonNode>> d : m.getValue().entrySet()) {
                List<String> row = new ArrayList<>(List.of(m.getKey(), Integer.toString(d.getKey())));
                for (int i = 0; i < digits; i++) {
                    int idx = i;
                    row.add(meanSd(d.getValue().stream().map(r -> r.get("accuracy_per_position").get(idx).asDouble()).toList()));
                }
                List<Double> a = d.getValue().stream().map(r -> r.get("accuracy").asDouble()).toList();
                List<Double> ls = d.getValue().stream().map(r -> r.get("answer_loss").asDouble()).toList();
                row.add(meanSd(a));
                row.add(meanSd(ls));
                row.add(Integer.toString(a.size()));
                rows.add(row);
                acc.add(d.getKey().doubleValue(), Stats.mean(a));
                first.add(d.getKey().doubleValue(), Stats.mean(d.getValue().stream()
                        .map(r -> r.get("accuracy_per_position").get(0).asDouble()).toList()));
                l.add(d.getKey().doubleValue(), Stats.mean(ls));
            }
            accuracy.addSeries(acc);
            firstDigit.addSeries(first);
            loss.addSeries(l);
        }
        table("Answer accuracy and loss against the key's distance (held-out passages; mean ± sd over seeds; "
                + "chance is 0.10 per digit, loss ln 10 = 2.30 for a uniform guess over digits)", head, rows);
        charts.put("retrieval-accuracy.png", lines("Retrieval: answer accuracy (mean over digits) vs distance",
                "key distance (chunks)", "accuracy", accuracy));
        charts.put("retrieval-accuracy-digit1.png", lines("Retrieval: first digit's accuracy vs distance",
                "key distance (chunks)", "accuracy", firstDigit));
        charts.put("retrieval-loss.png", lines("Retrieval: answer loss vs distance", "key distance (chunks)",
                "answer loss (nats)", loss));
        charts.put("retrieval-training.png", lines("Retrieval: training answer loss (EMA, seed 0)", "step",
                "answer loss (nats)", curves("train_answer_loss", "step", 0)));
    }

    private void timeToQualityReport() {
        JsonNode summary = results.get("summary");
        if (summary != null && summary.has("methods")) {
            List<String> head = List.of("method", "final held-out loss", "gap to seco [95% CI]", "train CPU s",
                    "CPU s to target", "steps to target", "reached");
            List<List<String>> rows = new ArrayList<>();
            for (JsonNode m : summary.get("methods")) {
                rows.add(List.of(m.get("label").asText(),
                        fmt(m.get("final_eval_loss_mean")) + " ± " + fmt(m.get("final_eval_loss_sd")),
                        fmt(m.get("gap_to_seco_mean")) + " ± " + fmt(m.get("gap_to_seco_ci95")),
                        fmt1(m.get("train_cpu_s_mean")), fmt1(m.get("cpu_s_to_target_mean")),
                        fmt1(m.get("steps_to_target_mean")),
                        m.get("reached_target").asInt() + "/" + m.get("seeds").asInt()));
            }
            table(String.format(Locale.ROOT, "Held-out loss (nats per byte) after equal steps and tokens; gap = method "
                    + "- seco paired by seed, mean ± 95%% t-interval half-width; target held-out loss %.4f (%s)",
                    summary.get("target_eval_loss").asDouble(), summary.get("target_rule").asText()), head, rows);
        }
        JsonNode variance = results.get("gradient_variance");
        if (variance != null && variance.size() > 0) {
            List<String> head = List.of("sampling", "budget t", "relative MSE: mean of ‖ĝ-g‖²/‖g‖²",
                    "‖mean of draws - g‖/‖g‖", "chunks visited", "CPU s per draw", "seco CPU s");
            List<List<String>> rows = new ArrayList<>();
            Map<String, XYSeries> bySampling = new LinkedHashMap<>();
            for (JsonNode v : variance) {
                rows.add(List.of(v.get("sampling").asText(), MethodSpec.trimmed(v.get("budget").asDouble()) + " ("
                                + v.get("budget_rule").asText() + ")", fmt(v.get("relative_mse")),
                        fmt(v.get("relative_error_of_mean")), fmt1(v.get("chunks_visited_mean")),
                        fmt(v.get("cpu_s_per_draw")), fmt(v.get("seco_cpu_s"))));
                bySampling.computeIfAbsent(v.get("sampling").asText(), XYSeries::new)
                        .add(v.get("budget").asDouble(), v.get("relative_mse").asDouble());
            }
            table("Gradient-estimate variance around SeCO's exact gradient (seed-0 SeCO weights, one batch, "
                    + variance.get(0).get("draws").asInt() + " draws each)", head, rows);
            XYSeriesCollection c = new XYSeriesCollection();
            bySampling.values().forEach(c::addSeries);
            charts.put("ttq-variance.png", lines("Relative MSE of the SpaCO gradient vs budget", "budget t (chunks)",
                    "mean of ‖ĝ - g‖² / ‖g‖²", c));
        }
        charts.put("ttq-loss-vs-step.png", lines("Held-out loss vs step (mean over seeds)", "step",
                "held-out loss (nats/byte)", meanCurves("step")));
        charts.put("ttq-loss-vs-cpu.png", lines("Held-out loss vs training CPU seconds (mean over seeds)",
                "training CPU seconds", "held-out loss (nats/byte)", meanCurves("train_cpu_s")));
    }

    /** Mean over seeds, per method, of the held-out loss at each evaluation point, against {@code x}. */
    private XYSeriesCollection meanCurves(String x) {
        Map<String, List<JsonNode>> byLabel = new LinkedHashMap<>();
        results.get("curves").forEach(c -> byLabel.computeIfAbsent(c.get("label").asText(), k -> new ArrayList<>()).add(c));
        XYSeriesCollection out = new XYSeriesCollection();
        byLabel.forEach((label, cs) -> {
            XYSeries s = new XYSeries(label);
            int points = cs.stream().mapToInt(c -> c.get("points").size()).min().orElse(0);
            for (int i = 0; i < points; i++) {
                int idx = i;
                s.add(Stats.mean(cs.stream().map(c -> c.get("points").get(idx).get(x).asDouble()).toList()),
                        Stats.mean(cs.stream().map(c -> c.get("points").get(idx).get("eval_loss").asDouble()).toList()));
            }
            out.addSeries(s);
        });
        return out;
    }

    private XYSeriesCollection curves(String y, String x, int seed) {
        XYSeriesCollection out = new XYSeriesCollection();
        for (JsonNode c : results.get("curves")) {
            if (c.get("seed").asInt() != seed) {
                continue;
            }
            XYSeries s = new XYSeries(c.get("label").asText());
            for (JsonNode p : c.get("points")) {
                if (p.hasNonNull(y)) {
                    s.add(p.get(x).asDouble(), p.get(y).asDouble());
                }
            }
            out.addSeries(s);
        }
        return out;
    }

    private static JFreeChart lines(String title, String x, String y, XYSeriesCollection data) {
        JFreeChart chart = ChartFactory.createXYLineChart(title, x, y, data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        plot.setRenderer(new XYLineAndShapeRenderer(true, true));
        ((org.jfree.chart.axis.NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        return chart;
    }

    private void table(String caption, List<String> head, List<List<String>> rows) {
        StringBuilder md = new StringBuilder(caption).append(":\n\n| ").append(String.join(" | ", head)).append(" |\n|");
        head.forEach(h -> md.append(" --- |"));
        md.append('\n');
        StringBuilder html = new StringBuilder("<p>").append(escape(caption)).append("</p>\n<table><tr>");
        head.forEach(h -> html.append("<th>").append(escape(h)).append("</th>"));
        html.append("</tr>\n");
        for (List<String> row : rows) {
            md.append("| ").append(String.join(" | ", row)).append(" |\n");
            html.append("<tr>");
            row.forEach(c -> html.append("<td>").append(escape(c)).append("</td>"));
            html.append("</tr>\n");
        }
        sections.add(md.toString());
        htmlSections.add(html.append("</table>").toString());
    }

    private static String meanSd(List<Double> xs) {
        return xs.size() < 2 ? String.format(Locale.ROOT, "%.3f", Stats.mean(xs))
                : String.format(Locale.ROOT, "%.3f ± %.3f", Stats.mean(xs), Stats.sd(xs));
    }

    private static String fmt(JsonNode v) {
        return v == null || v.isNull() ? "-" : String.format(Locale.ROOT, "%.4f", v.asDouble());
    }

    private static String fmt1(JsonNode v) {
        return v == null || v.isNull() ? "-" : String.format(Locale.ROOT, "%.1f", v.asDouble());
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }

    /** JSON has no NaN: a figure that could not be computed (one seed's interval, a target never reached) is null. */
    private static void nanToNull(JsonNode node) {
        if (node instanceof ObjectNode o) {
            List<String> nan = new ArrayList<>();
            o.fields().forEachRemaining(e -> {
                if (e.getValue().isDouble() && !Double.isFinite(e.getValue().asDouble())) {
                    nan.add(e.getKey());
                } else {
                    nanToNull(e.getValue());
                }
            });
            nan.forEach(o::putNull);
        } else if (node instanceof ArrayNode a) {
            for (int i = 0; i < a.size(); i++) {
                if (a.get(i).isDouble() && !Double.isFinite(a.get(i).asDouble())) {
                    a.set(i, com.fasterxml.jackson.databind.node.NullNode.instance);
                } else {
                    nanToNull(a.get(i));
                }
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path q : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
