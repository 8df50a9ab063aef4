package ai.chunkwise.train.report;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import com.fasterxml.jackson.databind.JsonNode;
import org.jfree.chart.ChartUtils;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code report.html}: one self-contained page per training run (no file or network beside it): the run's summary
 * from report.json and its plots ({@link RunCharts}) as PNG images embedded in base64. Written atomically, like
 * report.json, at the end of every run (a resumed run's page covers the whole run).
 */
public final class RunReportPage {
    public static final String FILE_NAME = "report.html";
    static final int WIDTH = 900;
    static final int HEIGHT = 420;

    private RunReportPage() {
    }

    /**
     * @param report  the run's report.json
     * @param entries its metrics.jsonl entries
     * @return the page written
     */
    public static Path write(Path output, JsonNode report, List<JsonNode> entries, double spacoBudget) {
        System.setProperty("java.awt.headless", "true");   // a trainer has no display
        StringBuilder html = new StringBuilder();
        html.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Chunkwise run: ")
                .append(escape(output.toString())).append("</title>\n<style>body{font-family:sans-serif;margin:2em;"
                        + "max-width:960px}table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:4px 8px;"
                        + "text-align:left}img{display:block;margin:1em 0;border:1px solid #eee}</style></head><body>\n")
                .append("<h1>Training run ").append(escape(output.toString())).append("</h1>\n<table>\n");
        for (Map.Entry<String, String> row : summary(report).entrySet()) {
            html.append("<tr><th>").append(escape(row.getKey())).append("</th><td>").append(escape(row.getValue()))
                    .append("</td></tr>\n");
        }
        html.append("</table>\n");
        for (RunCharts.Chart c : RunCharts.of(entries, spacoBudget)) {
            html.append("<h2>").append(escape(c.title())).append("</h2>\n<img alt=\"").append(escape(c.title()))
                    .append("\" width=\"").append(WIDTH).append("\" height=\"").append(HEIGHT)
                    .append("\" src=\"data:image/png;base64,").append(Base64.getEncoder().encodeToString(png(c)))
                    .append("\">\n");
        }
        html.append("<p>Data: metrics.jsonl (one line per optimizer step) and report.json in this directory.</p>\n")
                .append("</body></html>\n");
        Path file = output.resolve(FILE_NAME);
        AtomicFiles.writeString(file, html.toString());
        return file;
    }

    static byte[] png(RunCharts.Chart c) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ChartUtils.writeChartAsPNG(out, c.chart(), WIDTH, HEIGHT);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render the plot '" + c.title() + "': " + e.getMessage(), e);
        }
        return out.toByteArray();
    }

    private static Map<String, String> summary(JsonNode r) {
        Map<String, String> m = new java.util.LinkedHashMap<>();
        m.put("status", r.path("status").asText() + ", step " + r.path("steps_done").asLong() + " of "
                + r.path("steps_total").asLong());
        m.put("model", r.path("model").asText());
        m.put("method", r.path("method").asText() + ", chunk " + r.path("chunk_size").asLong() + " tokens, sequences of "
                + r.path("sequence_length").asLong() + " tokens, batch " + r.path("batch_size").asLong() + " x "
                + r.path("accumulation_steps").asLong() + ", " + r.path("dtype").asText());
        if (r.has("first_loss")) {
            m.put("train loss", String.format(Locale.ROOT, "%.4f at the first step, %.4f at the last",
                    r.path("first_loss").asDouble(), r.path("last_loss").asDouble()));
        }
        if (r.has("eval_loss")) {
            m.put("held-out loss", String.format(Locale.ROOT, "%.4f (perplexity %.3f) after step %d, on %s",
                    r.path("eval_loss").asDouble(), r.path("eval_perplexity").asDouble(), r.path("eval_step").asLong(),
                    r.path("eval_dataset").asText()));
        }
        if (r.has("steps_without_chunks")) {
            long none = r.path("steps_without_chunks").asLong();
            long steps = r.path("loss_curve").size();
            m.put("SpaCO steps that back-propagated no chunk", String.format(Locale.ROOT, "%d of %d (%.0f%%)%s", none,
                    steps, steps == 0 ? 0.0 : 100.0 * none / steps, none == 0 ? "" : ": with bernoulli sampling each "
                            + "chunk is drawn independently, so a step may draw none; the estimate stays exactly "
                            + "unbiased (the other steps carry the 1/q weight), see docs/seco-spaco.md"));
        }
        m.put("throughput (this run)", String.format(Locale.ROOT, "%.0f tokens/s over %.1f s",
                r.path("tokens_per_s_this_run").asDouble(), r.path("wall_seconds_this_run").asDouble()));
        m.put("peak resident memory (this run)", String.format(Locale.ROOT, "%.2f GiB",
                r.path("peak_physical_bytes_this_run").asDouble() / (1L << 30)));
        m.put("last checkpoint", r.path("checkpoint").asText());
        return m;
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
