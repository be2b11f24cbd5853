// The badge add form: choosing the vehicle fills the company (and the provider, unless chosen
// by hand) with the vehicle's, as saving does: no "This field is required" for a company the
// vehicle already names. The server answers which company, for the vehicles the user sees.
"use strict";

window.addEventListener("load", () => {
  const $ = window.django && window.django.jQuery;
  const source = document.getElementById("badge-vehicle-company");
  const vehicle = document.getElementById("id_vehicle");
  if (!$ || !source || !vehicle) return;
  const company = document.getElementById("id_company");
  const provider = document.getElementById("id_provider");
  const preFilled = provider ? provider.value : "";

  function choose(select, chosen) {
    if (!select) return;
    const value = String(chosen.id);
    if (![...select.options].some((option) => option.value === value)) {
      select.append(new Option(chosen.text, value));
    }
    $(select).val(value).trigger("change");
  }

  $(vehicle).on("change", async () => {
    if (!vehicle.value) return;
    const url = `${source.dataset.url}?${new URLSearchParams({ vehicle: vehicle.value })}`;
    const response = await fetch(url, { credentials: "same-origin" });
    if (!response.ok) return;
    const { company: owner } = await response.json();
    choose(company, owner);
    if (provider && (!provider.value || provider.value === preFilled)) choose(provider, owner);
  });
});
