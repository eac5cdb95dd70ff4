"""Export page widgets: the model bundle (download, contents, ONNX status, model card) and the project export."""

from __future__ import annotations

import io
import json
import zipfile

import streamlit as st

from workbench.deploy.export import about_dataset, build_bundle
from workbench.deploy.replay import export_project
from workbench.experiments import explanation_of
from workbench.i18n import get_language, t
from workbench.store import Store, StoredExperiment
from workbench.ui.core import PageContext, say

CONTENTS = {
    "model.skops": "export.contents.model_skops", "model.onnx": "export.contents.model_onnx",
    "predict.py": "export.contents.predict_py", "serve.py": "export.contents.serve_py",
    "train.py": "export.contents.train_py", "schema.json": "export.contents.schema_json",
    "recipe.json": "export.contents.recipe_json", "sample_request.json": "export.contents.sample_request_json",
    "model_card.md": "export.contents.model_card_md", "requirements.txt": "export.contents.requirements_txt",
    "workbench/": "export.contents.workbench",
}


@st.cache_data(show_spinner=False, max_entries=8)
def _bundle(home: str, experiment_id: str, lang: str, explained: bool = False) -> bytes:
    store = Store(home)
    experiment = store.get_experiment(experiment_id)
    about, frame = {"trained_at": experiment.created_at[:19]}, None
    stored = explanation_of(store, experiment_id) if explained else None
    if stored:
        about["importances"] = [(str(k), float(v)) for k, v in stored[0].importance(0).items()]
    try:
        dataset = store.get_dataset(experiment.dataset_id)
        frame = store.load_frame(dataset.id)
        about.update(about_dataset(dataset.name, dataset.filename, frame))
    except Exception:  # the dataset was deleted since: the bundle is made without an ONNX check
        frame = None
    return build_bundle(store.experiment_model(experiment_id), experiment.record, about, frame, lang)


def bundle_view(ctx: PageContext, experiment: StoredExperiment) -> None:
    """Download the bundle; say what is in it, whether ONNX came out, and how to use it."""
    with st.spinner(t("export.building")):
        explained = ctx.store.experiment_file(experiment.id, "explanation.json") is not None
        data = _bundle(str(ctx.store.home), experiment.id, get_language(), explained)
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        meta = json.loads(archive.read("schema.json"))
        card = archive.read("model_card.md").decode("utf-8")
    model = experiment.record["settings"]["model_id"]
    st.download_button(t("export.download"), data, file_name=f"{model}-{experiment.id}-bundle.zip",
                       mime="application/zip", type="primary", key="download_bundle", icon=":material/download:")
    st.caption(say("export.size", size=f"{len(data) / 2**20:.1f}"))
    rows = [{t("export.file"): name, t("export.what"): t(key)} for name, key in CONTENTS.items()
            if name in names or any(n.startswith(name) for n in names if name.endswith("/"))]
    st.dataframe(rows, width="stretch", hide_index=True)
    onnx = meta.get("onnx", {})
    (st.success if onnx.get("converted") else st.info)(onnx.get("reason", ""), icon=":material/swap_horiz:")
    st.subheader(t("export.how"))
    st.code("pip install -r requirements.txt\n"
            "python predict.py new_rows.csv predictions.csv\n"
            "python serve.py --host 127.0.0.1 --port 8000\n"
            "curl -X POST http://127.0.0.1:8000/predict -H 'content-type: application/json' "
            "-d @sample_request.json\n"
            "python train.py training_data.csv", language="bash")
    with st.expander(t("predict.model_card")):
        st.markdown(card)


def project_view(ctx: PageContext) -> None:
    """The whole project (raw files, recipes, settings) for `python -m workbench replay`."""
    st.subheader(t("export.project"))
    st.caption(t("export.project_help"))
    st.download_button(t("export.project_download"), lambda: export_project(ctx.store, ctx.project.id),
                       file_name="project-export.zip", mime="application/zip", key="download_project",
                       icon=":material/folder_zip:")
    st.code("python -m workbench replay project-export.zip", language="bash")
