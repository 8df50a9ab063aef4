package ai.chunkwise.pipeline.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Issue 20, item 13: includes in the jobs' HOCON files must exist, and --set accepts an unquoted URI. */
class ConfFilesTest {

    @TempDir
    Path tmp;

    @Test
    void anIncludeIsReadRelativeToTheIncludingFileAndNestedIncludesToTheirOwn() throws Exception {
        Files.createDirectories(tmp.resolve("common/deeper"));
        Files.writeString(tmp.resolve("common/base.conf"), "train { steps = 7 }\ninclude \"deeper/lr\"\n");
        Files.writeString(tmp.resolve("common/deeper/lr.conf"), "train.optimizer.lr = 0.5\n");
        Files.writeString(tmp.resolve("run.conf"), "include \"common/base.conf\"\ntrain.batch-size = 3\n");
        Config c = ConfFiles.parse(tmp.resolve("run.conf").toFile()).resolve();
        assertEquals(7, c.getInt("train.steps"));
        assertEquals(0.5, c.getDouble("train.optimizer.lr"));
        assertEquals(3, c.getInt("train.batch-size"));
        Files.writeString(tmp.resolve("abs.conf"), "include required(file(\"" + tmp.resolve("common/base.conf") + "\"))\n");
        assertEquals(7, ConfFiles.parse(tmp.resolve("abs.conf").toFile()).resolve().getInt("train.steps"));
    }

    @Test
    void anIncludeOfAMissingFileIsAnErrorNamingTheFullPathAndTheIncludingFile() throws Exception {
        Path run = tmp.resolve("run.conf");
        Files.writeString(run, "include \"settings/missing.conf\"\ntrain.steps = 2\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfFiles.parse(run.toFile()));
        assertEquals("include \"settings/missing.conf\" in " + run + ": file " + tmp.resolve("settings/missing.conf")
                + " does not exist (a relative include is read from the including file's directory); fix the path or remove"
                + " the include, or its settings would be missing", e.getMessage());
        // Typesafe Config alone ignores it: the settings vanish without a word
        assertEquals(2, ConfigFactory.parseFile(run.toFile()).getInt("train.steps"));
    }

    @Test
    void includeRequiredOfAMissingAbsolutePathKeepsItsLeadingSlash() throws Exception {
        Path run = tmp.resolve("run.conf");
        Path missing = tmp.resolve("nowhere/base.conf");
        Files.writeString(run, "include required(\"" + missing + "\")\n");
        ConfigException e = assertThrows(ConfigException.class, () -> ConfFiles.parse(run.toFile()));
        assertEquals(true, e.getMessage().contains("file " + missing + " "), e.getMessage());
        assertEquals(true, missing.toString().startsWith("/") && !e.getMessage().contains("classpath"), e.getMessage());
        Files.writeString(run, "include \"nowhere/common\"\n");   // without extension: .conf, .json, .properties
        e = assertThrows(ConfigException.class, () -> ConfFiles.parse(run.toFile()));
        assertEquals(true, e.getMessage().contains("none of " + tmp.resolve("nowhere/common") + "{,.conf,.json,.properties}"),
                e.getMessage());
    }

    @Test
    void anUnquotedUriInASetValueIsQuotedAndOtherValuesAreLeftAsGiven() {
        for (String uri : new String[] {"hdfs://namenode:8020/runs/x", "s3a://bucket/runs/x", "file:///tmp/x"}) {
            String hocon = "train.output = " + ConfFiles.overrideValue(uri);
            assertEquals(uri, ConfigFactory.parseString(hocon).getString("train.output"));
            // without it HOCON reads "//" as the start of a comment
            assertThrows(ConfigException.class, () -> ConfigFactory.parseString("train.output = " + uri)
                    .getString("train.output"));
        }
        assertEquals("20", ConfFiles.overrideValue("20"));
        assertEquals("\"hdfs://a/b\"", ConfFiles.overrideValue("\"hdfs://a/b\""));
        assertEquals("[a, b]", ConfFiles.overrideValue("[a, b]"));
        assertEquals("/local/path", ConfFiles.overrideValue("/local/path"));
    }
}
