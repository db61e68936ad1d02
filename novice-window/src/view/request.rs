//! The questions only the novice answers, as a modal dialog over the whole window: "<expert>
//! wants to see your screen" (or, for help a support desk offers, who offers it and for which
//! organisation) and "<expert> wants to control your computer", which also says the three ways
//! to take control back. Allow and Decline, and the time left; once the deadline has passed,
//! only that it lapsed and Close.

use super::ERROR_RED;
use crate::model::{Model, RequestKind};
use egui::{Color32, Context, Id, RichText};
use i18n::Translator;
use std::time::SystemTime;

pub(super) fn show(ctx: &Context, model: &mut Model, tr: &Translator, now: SystemTime) {
    let Some(request) = model.request().cloned() else {
        return;
    };
    let expert = || [("expert", request.expert.as_str().into())];
    let (title, body) = match (&request.kind, &request.offered_by) {
        (RequestKind::See, Some(offer)) => {
            let args = [
                ("operator", offer.operator.as_str().into()),
                ("organisation", offer.organisation.as_str().into()),
            ];
            (
                tr.text_with("request-offer-title", &args),
                tr.text_with("request-offer-body", &args),
            )
        }
        (RequestKind::See, None) => (
            tr.text_with("request-see-title", &expert()),
            tr.text_with("request-see-body", &expert()),
        ),
        (RequestKind::Control, _) => (
            tr.text_with("request-control-title", &expert()),
            tr.text_with("request-control-body", &expert()),
        ),
    };
    let frame = egui::Frame::popup(&ctx.global_style()).inner_margin(egui::Margin::same(20));
    egui::Modal::new(Id::unique("novice-request"))
        .frame(frame)
        .show(ctx, |ui| {
            ui.set_max_width(480.0);
            ui.label(RichText::new(title).size(22.0).strong());
            ui.add_space(8.0);
            ui.label(body);
            if request.kind == RequestKind::Control {
                ui.add_space(8.0);
                ui.label(RichText::new(tr.text("request-control-how-to-stop")).strong());
            }
            ui.add_space(12.0);
            if request.expired {
                ui.label(
                    RichText::new(tr.text("request-expired"))
                        .color(ERROR_RED)
                        .strong(),
                );
                ui.add_space(8.0);
                if ui.button(tr.text("close")).clicked() {
                    model.dismiss_request();
                }
                return;
            }
            let left = tr.duration(request.time_left(now));
            ui.label(tr.text_with("request-time-left", &[("left", left.into())]));
            ui.add_space(8.0);
            ui.horizontal(|ui| {
                let allow = egui::Button::new(
                    RichText::new(tr.text("request-allow"))
                        .size(18.0)
                        .color(Color32::WHITE),
                )
                .fill(Color32::from_rgb(30, 110, 60));
                if ui.add(allow).clicked() {
                    model.answer(true, now);
                }
                ui.add_space(12.0);
                if ui
                    .button(RichText::new(tr.text("request-decline")).size(18.0))
                    .clicked()
                {
                    model.answer(false, now);
                }
            });
        });
}
