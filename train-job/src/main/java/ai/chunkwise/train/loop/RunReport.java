package ai.chunkwise.train.loop;

import ai.chunkwise.train.checkpoint.AtomicFiles;
import ai.chunkwise.train.reliability.TrainingDivergedException;
import ai.chunkwise.train.report.RunReportPage;
import ai.chunkwise.train.storage.RemoteOutput;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.file.Path;
import java.util.List;

/** A run's report.json (and report.html): built from its settings and metrics.jsonl, written and published. */
final class RunReport {
    static final String FILE_NAME = "report.json";

    private RunReport() {
    }

    /**
     * The report of steps {@code startStep} to {@code endStep} of this run: status, geometry, speed and peak
     * memory, the loss and held-out curves, and the last checkpoint.
     */
    static ObjectNode build(TrainSettings s, List<JsonNode> entries, long startStep, long endStep, RunClock clock,
                            Path lastCheckpoint, String modelSource, int chunkSize, long seqLen) {
        ObjectNode r = MetricsLog.newEntry();
        r.put("status", endStep == s.steps() ? "complete" : "stopped");
        r.put("steps_total", s.steps());
        r.put("steps_done", endStep);
        r.put("resumed_from_step", startStep);
        r.put("model", modelSource);
        r.put("method", s.method().name().configName());
        r.put("chunk_size", chunkSize);
        r.put("sequence_length", seqLen);
        r.put("batch_size", s.batchSize());
        r.put("accumulation_steps", s.accumulationSteps());
        r.put("distributed", s.distributed().spark() ? "spark" : "none");
        r.put("dtype", s.model().dtypeName());
        double seconds = clock.seconds();
        r.put("wall_seconds_this_run", seconds);
        long stepsThisRun = endStep - startStep;
        long tokensThisRun = stepsThisRun * s.batchSize() * s.accumulationSteps() * seqLen;
        r.put("tokens_per_s_this_run", stepsThisRun == 0 ? 0 : tokensThisRun / seconds);
        r.put("peak_physical_bytes_this_run", clock.peakPhysicalBytes());
        ArrayNode curve = r.putArray("loss_curve");
        JsonNode first = null;
        JsonNode last = null;
        for (JsonNode e : entries) {
            curve.addObject().put("step", e.path("step").asLong()).put("loss", e.path("loss").asDouble());
            first = first == null ? e : first;
            last = e;
        }
        if (first != null) {
            r.put("first_loss", first.path("loss").asDouble());
            r.put("last_loss", last.path("loss").asDouble());
        }
        ArrayNode evalCurve = null;
        for (JsonNode e : entries) {
            if (e.has("eval_loss")) {
                evalCurve = evalCurve != null ? evalCurve : r.putArray("eval_curve");
                evalCurve.addObject().put("step", e.path("step").asLong()).put("loss", e.path("eval_loss").asDouble());
                r.put("eval_loss", e.path("eval_loss").asDouble());
                r.put("eval_perplexity", e.path("eval_perplexity").asDouble());
                r.put("eval_step", e.path("step").asLong());
            }
        }
        if (s.method().name().sampled()) {
            // an empty draw is part of bernoulli's unbiased estimator, but the user should see how often it happens
            r.put("steps_without_chunks", entries.stream().filter(e -> e.path("updated").asBoolean(true)
                    && e.path("chunks_visited").asLong(-1) == 0).count());
        }
        if (s.eval().enabled()) {
            r.put("eval_dataset", s.eval().dataset().toString());
        }
        r.put("checkpoint", lastCheckpoint == null ? null : lastCheckpoint.toString());
        r.put("metrics", s.output().resolve(MetricsLog.FILE_NAME).toString());
        return r;
    }

    /** report.json and report.html of a finished (or stopped) run, published with the metrics. */
    static void write(TrainSettings s, ObjectNode report, List<JsonNode> entries, MetricsLog metrics,
                      RemoteOutput remote, Path lastCheckpoint) {
        if (remote != null) {
            report.put("checkpoint", lastCheckpoint == null ? null
                    : s.outputLocation() + "/checkpoints/" + lastCheckpoint.getFileName());
            report.put("metrics", s.outputLocation() + "/" + MetricsLog.FILE_NAME);
        }
        AtomicFiles.writeString(s.output().resolve(FILE_NAME), report.toPrettyString() + "\n");
        RunReportPage.write(s.output(), report, entries,
                s.method().chunksPerStep(s.accumulationSteps()));
        if (remote != null) {
            metrics.flush();
            remote.publishFile(MetricsLog.FILE_NAME);
            remote.publishFile(FILE_NAME);
            remote.publishFile(RunReportPage.FILE_NAME);
        }
    }

    /** report.json of a run stopped by the non-finite step guard, published with the metrics. */
    static void writeDiverged(TrainSettings s, ObjectNode report, TrainingDivergedException e, RemoteOutput remote) {
        report.put("status", "diverged");
        report.put("error", e.getMessage());
        AtomicFiles.writeString(s.output().resolve(FILE_NAME), report.toPrettyString() + "\n");
        if (remote != null) {
            remote.publishFile(MetricsLog.FILE_NAME);
            remote.publishFile(FILE_NAME);
        }
    }
}
