package ai.chunkwise.train.cli;

import ai.chunkwise.train.data.TinyDatasets;
import ai.chunkwise.train.loop.TrainSettings;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Issue 20, item 13, at train's command line: a --conf include that is missing, and --set with an unquoted URI. */
class ConfIncludesCommandTest {


    @Test
    void aMissingIncludeStopsTrainNamingTheFileAndAnIncludedFileIsRead(@TempDir Path tmp) throws Exception {
        Path modelConfig = TinyDatasets.modelConfig(tmp);
        Path ds = TinyDatasets.write(tmp.resolve("ds"), 4);
        Path conf = tmp.resolve("run.conf");
        Files.writeString(conf, "include \"shared/optimizer.conf\"\ntrain { steps = 1 }\n");
        CommandRun r = CommandRun.of("train", "--conf", conf.toString(), "--init-config", modelConfig.toString(), "--dataset",
                ds.toString(), "--out", tmp.resolve("out").toString());
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("include \"shared/optimizer.conf\" in " + conf + ": file "
                + tmp.resolve("shared/optimizer.conf") + " does not exist"), r.err());
        assertTrue(Files.notExists(tmp.resolve("out/checkpoints")), "nothing trained without the included settings");

        Files.createDirectories(tmp.resolve("shared"));
        Files.writeString(tmp.resolve("shared/optimizer.conf"), "train.optimizer.lr = 0.003\n");
        TrainSettings s = TrainSettings.load(conf, Map.of("train.data.dataset", "\"" + ds + "\"",
                "train.model.init-config", "\"" + modelConfig + "\""));
        assertEquals(0.003, s.optimizer().lr());
    }

    @Test
    void anUnquotedHdfsUriInSetIsTakenAsItIsAndAValueThatCannotParseIsToldToBeQuoted(@TempDir Path tmp) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("train.data.dataset", "hdfs://namenode:8020/datasets/x");
        o.put("train.model.init-config", "/models/config.json");
        o.put("train.output", "s3a://bucket/runs/x");
        TrainSettings s = TrainSettings.load(null, o);
        assertTrue(s.remoteOutput());
        assertTrue(s.rendered().contains("hdfs://namenode:8020/datasets/x") && s.rendered().contains("s3a://bucket/runs/x"),
                s.rendered());

        CommandRun r = CommandRun.of("train", "--set", "train.data.dataset=a:b{", "--set", "train.steps=1");
        assertNotEquals(0, r.code());
        assertTrue(r.err().contains("command-line override train.data.dataset=a:b{ does not parse")
                && r.err().contains("must be quoted, e.g. --set 'train.data.dataset=\"value\"'"), r.err());
    }
}
