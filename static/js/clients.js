// Clients area: pick an ICD-10-CM suggestion into a referral's diagnosis codes.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var pick = event.target.closest("#referral-dx .suggest-pick");
    if (!pick) return;
    event.preventDefault();
    var box = document.getElementById("diagnosis_codes");
    if (!box) return;
    var code = pick.getAttribute("data-code");
    var codes = box.value.split(/[\s,;]+/).filter(Boolean);
    if (codes.indexOf(code) === -1) codes.push(code);
    box.value = codes.join(", ");
    var search = document.getElementById("dx-q");
    if (search) { search.value = ""; search.focus(); }
    var list = document.getElementById("dx-suggestions");
    if (list) list.innerHTML = "";
  });
})();
