package ui

import (
	"github.com/maxence-charriere/go-app/v10/pkg/app"
)

// A returning visitor should see figures before the WebAssembly has even been compiled,
// which takes most of a second. So once the live figures of a view are on screen, the page
// also stores its paint record: the filter bar and the cards as drawn, HTML. The page's
// first script (paintScript) puts the record of the view in the URL in place of the
// pre-rendered placeholders as soon as the page is parsed; the app, once running, draws the
// same figures from the stored snapshot, then the live ones. Only the drawing is stored:
// the figures are formatted by the Go code alone.

// savePaint stores the paint record of the view on screen (viewKey), from the page.
func savePaint(viewKey string) {
	app.Window().Call("salespulseSavePaint", viewKey)
}

// paintScript draws the stored paint record of the view in the URL, if any, once the page
// is parsed (before the deferred scripts run), unless the app was first; the URL's query is
// the view's key, as the app keeps it canonical. It also defines salespulseSavePaint, which
// copies the filter bar and cards, with the state of their fields (which the DOM keeps as
// properties, not attributes), and without a tapped card's exact figure or a form message.
const paintScript = `<script>(function(){try{
var prefix="` + paintPrefix + `";
window.salespulseSavePaint=function(key){try{
var d=document.getElementById("dashboard"),f=d&&d.querySelector(".filters"),k=d&&d.querySelector(".kpis");
if(!f||!k)return;
var fc=f.cloneNode(true),from=f.querySelectorAll("input,select"),to=fc.querySelectorAll("input,select");
for(var i=0;i<from.length;i++){
if(from[i].tagName==="SELECT"){for(var j=0;j<from[i].options.length;j++)to[i].options[j].toggleAttribute("selected",from[i].options[j].selected)}
else to[i].setAttribute("value",from[i].value)}
fc.querySelectorAll(".field-error").forEach(function(e){e.remove()});
var kc=k.cloneNode(true);
kc.querySelectorAll(".exact").forEach(function(e){e.classList.remove("exact")});
localStorage.setItem(prefix+key,JSON.stringify({filters:fc.outerHTML,cards:kc.outerHTML}));
}catch(e){}};
if(location.pathname!=="/")return;
var p=localStorage.getItem(prefix+location.search.slice(1));
if(!p)return;
p=JSON.parse(p);
var draw=function(){
var d=document.getElementById("dashboard");
if(!d)return;
document.removeEventListener("readystatechange",draw);
var f=d.querySelector(".filters"),k=d.querySelector(".kpis");
if(d.dataset.state!=="empty"||!f||!k)return;
f.outerHTML=p.filters;k.outerHTML=p.cards;
d.dataset.state="cached";d.classList.replace("state-empty","state-cached");
document.documentElement.classList.add("painted");
};
document.addEventListener("readystatechange",draw);
}catch(e){}})()</script>`
