"""Images page widgets: pick the pictures (the digits sample or an uploaded zip), the size and network, train,
then read the scores, the confusion matrix and the mistakes; classify a new picture; download the bundle."""

from __future__ import annotations

from dataclasses import asdict

import pandas as pd
import streamlit as st

from workbench import charts
from workbench.deep import images as im
from workbench.deep import jobs as deep_jobs
from workbench.deep.jobs import DIGITS, ImageSettings
from workbench.experiments import start
from workbench.i18n import Note, get_language, t
from workbench.ui.core import PageContext, say, say_note
from workbench.ui.model import another_job_running, device_caption

PRESET_KEYS = {"small": "images.preset.small", "medium": "images.preset.medium"}


def upload(ctx: PageContext) -> None:
    """Keep an uploaded zip in the project (its layout checked first)."""
    uploaded = st.file_uploader(t("images.upload"), type=["zip"], key="images_zip", help=t("images.upload_help"),
                                disabled=ctx.read_only)
    if uploaded is not None and st.session_state.get("_images_kept") != uploaded.file_id:
        name = deep_jobs.keep_upload(ctx.store, ctx.project.id, uploaded.name, uploaded.getvalue())
        st.session_state["_images_kept"] = uploaded.file_id
        st.session_state["images_source"] = name
        st.session_state["flash"] = say("images.kept", name=name)
        st.rerun()


def form(ctx: PageContext) -> None:
    """Source, picture size, network preset and augmentation; start training as a job."""
    sources = [DIGITS, *deep_jobs.uploads(ctx.store, ctx.project.id)]
    if st.session_state.get("images_source") not in sources:
        st.session_state["images_source"] = DIGITS
    source = st.selectbox(t("images.source"), sources, key="images_source",
                          format_func=lambda s: t("images.digits") if s == DIGITS else s)
    if source == DIGITS:
        st.caption(t("images.digits_help"))
    else:
        counts = im.survey(deep_jobs.upload_bytes(ctx.store, ctx.project.id, source))
        st.caption(say("images.classes", count=len(counts), pictures=sum(counts.values()),
                       detail=", ".join(f"{k} ({v})" for k, v in counts.items())))
    c = st.columns(3)
    size = c[0].selectbox(t("images.size"), im.SIZES, index=im.SIZES.index(16 if source == DIGITS else 32),
                          key=f"images_size_{source}", help=t("images.size_help"))
    preset = c[1].radio(t("images.preset"), im.PRESETS, format_func=lambda p: t(PRESET_KEYS[p]), key="images_preset",
                        help=t("images.preset_help"))
    epochs = c[2].number_input(t("hp.epochs"), 1, 300, value=None, step=1, key="images_epochs",
                               placeholder=t("images.epochs_auto"), help=t("images.epochs_help"))
    with st.expander(t("images.augmentation")):
        st.caption(t("images.augmentation_help"))
        flip = st.checkbox(t("images.flip"), value=False, key="images_flip", help=t("images.flip_help"))
        rotation = st.slider(t("images.rotation"), 0.0, 0.25, 0.05, 0.01, key="images_rotation",
                             help=t("images.rotation_help"))
        zoom = st.slider(t("images.zoom"), 0.0, 0.3, 0.1, 0.05, key="images_zoom", help=t("images.zoom_help"))
    device_caption()
    busy = another_job_running(ctx, ("images",))
    if st.button(t("images.train"), type="primary", disabled=busy or ctx.read_only, key="images_train",
                 icon=":material/play_arrow:"):
        settings = ImageSettings(source, int(size), preset, flip, float(rotation), float(zoom),
                                 None if epochs is None else int(epochs))
        start(ctx.store, ctx.project.id, "images", settings=asdict(settings))
        st.rerun()


def results(ctx: PageContext) -> None:
    """The newest finished run: scores, losses, confusion matrix, mistakes, a picture to classify, the bundle."""
    latest = deep_jobs.latest(ctx.store, ctx.project.id)
    if latest is None:
        return
    job_id, result = latest
    st.subheader(t("images.results"))
    s = result["settings"]
    st.caption(say("images.run", source=t("images.digits") if s["source"] == DIGITS else s["source"], size=s["size"],
                   train=result["n_train"], test=result["n_test"], seconds=round(result["seconds"]),
                   device=", ".join(result["device"])))
    for note in result["notes"]:
        st.warning(say_note(Note(**note)), icon=":material/warning:")
    c = st.columns(3)
    c[0].metric(t("metric.accuracy"), f"{result['accuracy']:.4f}")
    c[1].metric(t("metric.balanced_accuracy"), f"{result['balanced_accuracy']:.4f}")
    c[2].metric(t("images.best_epoch"), f"{result['best_epoch']} / {len(result['history']['loss'])}")
    left, right = st.columns(2)
    left.plotly_chart(charts.loss_curve(charts.history_rows(result["history"]), result["best_epoch"]),
                      width="stretch", key="images_loss")
    matrix = pd.DataFrame(result["confusion"], index=result["classes"], columns=result["classes"])
    right.plotly_chart(charts.confusion_heatmap(matrix), width="stretch", key="images_confusion")
    _mistakes(ctx, job_id)
    _classify(ctx, job_id, result)
    st.download_button(t("images.download"), lambda: deep_jobs.build_image_bundle(
        deep_jobs.network_of(ctx.store, ctx.project.id, job_id), result, get_language()),
        file_name="image-classifier-bundle.zip", mime="application/zip", key="images_bundle",
        icon=":material/ios_share:", on_click="ignore", help=t("images.download_help"))


def _mistakes(ctx: PageContext, job_id: str) -> None:
    wrong = deep_jobs.mistakes_of(ctx.store, ctx.project.id, job_id)
    st.markdown(f"**{t('images.mistakes')}**")
    if not len(wrong["actual"]):
        st.caption(t("images.no_mistakes"))
        return
    st.caption(t("images.mistakes_help"))
    pictures = [p[:, :, 0] if p.shape[-1] == 1 else p for p in wrong["images"]]
    captions = [say("images.mistake", actual=a, predicted=p, confidence=f"{c:.0%}")
                for a, p, c in zip(wrong["actual"], wrong["predicted"], wrong["confidence"])]
    st.image(pictures, caption=captions, width=96)


def _classify(ctx: PageContext, job_id: str, result: dict) -> None:
    picture = st.file_uploader(t("images.classify"), type=["png", "jpg", "jpeg"], key="images_classify")
    if picture is None:
        return
    network = _network(str(ctx.store.home), ctx.project.id, job_id)
    proba = deep_jobs.predict_image(network, picture.getvalue(), result["settings"]["size"], result["channels"])
    best = max(proba, key=proba.get)
    left, right = st.columns([1, 3])
    left.image(picture.getvalue(), width=96)
    right.success(say("text.prediction", label=best, probability=f"{proba[best]:.1%}"), icon=":material/label:")
    right.plotly_chart(charts.class_probabilities(proba), width="stretch", key="images_proba")


@st.cache_resource(show_spinner=False, max_entries=2)
def _network(home: str, project_id: str, job_id: str) -> im.ImageNetwork:
    from workbench.store import Store

    return deep_jobs.network_of(Store(home), project_id, job_id)
