package ai.chunkwise.train.reliability;

import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.TrainSettings;
import ai.chunkwise.train.loop.Trainer;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.typesafe.config.ConfigUtil;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/** Tiny training runs (2-layer model, 6-row dataset) for the reliability tests, with their console captured. */
final class TrainRuns {
    private TrainRuns() {
    }

    static Map<String, String> base(Path tmp, Path out) {
        Path config = tmp.resolve("tiny-config.json");
        if (!Files.exists(config)) {
            ai.chunkwise.train.checkpoint.AtomicFiles.writeString(config, TinyDatasets.tinyModel().toJson());
        }
        Path ds = tmp.resolve("ds");
        if (!Files.exists(ds)) {
            TinyDatasets.write(ds, 6);
        }
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", quote(ds));
        o.put("train.model.init-config", quote(config));
        o.put("train.output", quote(out));
        o.put("train.optimizer.lr", "0.01");
        return o;
    }

    static String quote(Path p) {
        return ConfigUtil.quoteString(p.toString());
    }

    /** The outcome of one run: its report (null if it threw) and everything it printed. */
    record Run(ObjectNode report, String console) {
    }

    static Run train(Map<String, String> overrides, boolean resume) {
        return run(overrides, resume, false);
    }

    /** Resumes with --force-resume-with-changes. */
    static Run trainForced(Map<String, String> overrides) {
        return run(overrides, true, true);
    }

    private static Run run(Map<String, String> overrides, boolean resume, boolean force) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8);
        ObjectNode report = new Trainer(TrainSettings.load(null, overrides), out).run(resume, Long.MAX_VALUE, force);
        return new Run(report, bytes.toString(StandardCharsets.UTF_8));
    }
}
