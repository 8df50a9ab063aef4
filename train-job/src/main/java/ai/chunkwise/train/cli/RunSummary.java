package ai.chunkwise.train.cli;

import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.report.RunReportPage;
import com.fasterxml.jackson.databind.JsonNode;

import java.util.Locale;

/**
 * The lines {@code train} ends with: what the run did and where to look, not its whole report (report.json holds
 * that, and {@code --json} prints it). The loss curve of a long run is kilobytes of JSON on a console.
 */
final class RunSummary {
    private RunSummary() {
    }

    static String of(JsonNode report, TrainSettings settings) {
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s: %d of %d steps", report.path("status").asText("done"),
                report.path("steps_done").asLong(), report.path("steps_total").asLong()));
        if (report.has("first_loss")) {
            b.append(String.format(Locale.ROOT, ", loss %.4f -> %.4f", report.path("first_loss").asDouble(),
                    report.path("last_loss").asDouble()));
        }
        if (report.has("eval_loss")) {
            b.append(String.format(Locale.ROOT, ", held-out loss %.4f (perplexity %.2f) after step %d",
                    report.path("eval_loss").asDouble(), report.path("eval_perplexity").asDouble(),
                    report.path("eval_step").asLong()));
        }
        if (report.path("steps_without_chunks").asLong() > 0) {
            b.append(String.format(Locale.ROOT, ", %d step(s) back-propagated no chunk (SpaCO drew none)",
                    report.path("steps_without_chunks").asLong()));
        }
        b.append(String.format(Locale.ROOT, ", %.1f s%n", report.path("wall_seconds_this_run").asDouble()));
        if (!report.path("checkpoint").isNull() && report.has("checkpoint")) {
            b.append("checkpoint ").append(report.path("checkpoint").asText()).append('\n');
        }
        b.append("report     ").append(reportPage(settings)).append(" (open in a browser; report.json beside it)");
        return b.toString();
    }

    /** Where report.html is: in the output as the user named it (a remote output's URI, not its staging copy). */
    static String reportPage(TrainSettings settings) {
        return settings.remoteOutput()
                ? settings.outputLocation().replaceAll("/+$", "") + "/" + RunReportPage.FILE_NAME
                : settings.output().resolve(RunReportPage.FILE_NAME).toString();
    }
}
